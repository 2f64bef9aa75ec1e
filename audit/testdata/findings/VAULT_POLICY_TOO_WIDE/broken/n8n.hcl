# n8n nodes
path "secret/data/n8n/*" {
  capabilities = ["read", "update", "delete", "list"]
}

path "secret/metadata/n8n/*" {
  capabilities = ["list", "sudo"]
}
