# Vault server of the compose example: file storage on the vault-data
# volume, so that the n8n encryption key survives a restart of Vault (dev
# mode keeps everything in memory: a restart would lose the key, and the
# init service would seed a new one that cannot decrypt the credentials n8n
# already stored). A Vault with file storage starts sealed: the vault-init
# service initialises and unseals it.
#
# Plain HTTP on the compose network (the port is published on the host's
# loopback only), which the n8n services accept with
# N8N_SECRETS_ALLOW_HTTP=true. In
# production, give the listener a certificate (tls_cert_file,
# tls_key_file) and use https:// with VAULT_CACERT.
storage "file" {
  path = "/vault/file"
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

api_addr      = "http://vault:8200"
disable_mlock = true
ui            = false
