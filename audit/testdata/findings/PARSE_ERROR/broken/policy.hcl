path "secret/data/n8n/*" {
  capabilities = ["read"
