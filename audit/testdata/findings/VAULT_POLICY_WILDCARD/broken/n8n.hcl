path "*" {
  capabilities = ["read"]
}

path "secret/*" {
  capabilities = ["read"]
}

path "secret/data/n8n/core" {
  capabilities = ["*"]
}
