# n8n nodes
path "secret/data/n8n/*" {
  capabilities = ["read"]
}
