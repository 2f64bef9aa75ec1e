# n8n in queue mode on Nomad (1.7 or later), the official n8nio/n8n image
# unchanged, every task (main, workers, webhook processors) behind
# n8n-secrets.
#
# In each group a prestart task (the scratch "binary" image of
# docker/Dockerfile) copies n8n-secrets into the allocation's shared data folder
# (/alloc/data), and the n8n task runs it in front of the image's own entrypoint,
# under tini as the image does. n8n-secrets logs in to Vault with the task's
# workload identity: Nomad writes a JWT signed by the cluster into the
# task's secrets folder (identity "vault_default", file = true), and Vault's
# JWT auth (mount jwt-nomad, role n8n; README.md) trusts Nomad's keys. No
# Vault token is handed to the task and nothing is written to disk but the
# JWT, which only Vault's role n8n accepts; the token n8n-secrets gets is
# revoked before n8n starts.
#
#   nomad job run n8n.nomad.hcl
#   nomad alloc logs -stderr -task n8n <alloc> | grep n8n_key_fingerprint
#
# Postgres and Redis are not part of this file: point DB_POSTGRESDB_HOST and
# QUEUE_BULL_REDIS_HOST at yours; their passwords are in Vault.

job "n8n" {
  type = "service"

  # One main at a time (no multi-main here).
  group "main" {
    count = 1

    network {
      port "http" { to = 5678 }
    }

    task "n8n-secrets" {
      driver = "docker"
      lifecycle {
        hook    = "prestart"
        sidecar = false
      }
      config {
        image      = "registry.example.com/n8n-secrets/n8n-secrets:0.1.0"
        entrypoint = ["/usr/local/bin/n8n-secrets"]
        args       = ["install", "/alloc/data"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }

    task "n8n" {
      driver = "docker"
      config {
        image = "n8nio/n8n:2.40.0"
        # The image's entrypoint (tini -- /docker-entrypoint.sh) with
        # n8n-secrets in between; no args: the entrypoint starts the main.
        entrypoint      = ["tini", "--", "/alloc/data/n8n-secrets", "--", "/docker-entrypoint.sh"]
        ports           = ["http"]
        readonly_rootfs = true
        # n8n writes its folder (the settings file holds the key: in memory
        # only), its static cache and temporary files.
        mount {
          type     = "tmpfs"
          target   = "/home/node/.n8n"
          readonly = false
          tmpfs_options { size = 67108864 }
        }
        mount {
          type     = "tmpfs"
          target   = "/home/node/.cache"
          readonly = false
          tmpfs_options { size = 268435456 }
        }
        mount {
          type     = "tmpfs"
          target   = "/tmp"
          readonly = false
          tmpfs_options { size = 268435456 }
        }
      }
      identity {
        name = "vault_default"
        aud  = ["vault.io"]
        file = true
        ttl  = "1h"
      }
      env {
        VAULT_ADDR                          = "https://vault.service.consul:8200"
        VAULT_AUTH_METHOD                   = "jwt"
        VAULT_AUTH_MOUNT                    = "jwt-nomad"
        VAULT_AUTH_ROLE                     = "n8n"
        VAULT_JWT_FILE                      = "/secrets/nomad_vault_default.jwt"
        N8N_SECRETS_EXPECT_KEY_FINGERPRINT  = ""
        N8N_ENCRYPTION_KEY                  = "vault://secret/n8n/core#encryption_key"
        DB_POSTGRESDB_PASSWORD              = "vault://secret/n8n/db#password"
        QUEUE_BULL_REDIS_PASSWORD           = "vault://secret/n8n/redis#password"
        DB_TYPE                             = "postgresdb"
        DB_POSTGRESDB_HOST                  = "postgres.service.consul"
        DB_POSTGRESDB_DATABASE              = "n8n"
        DB_POSTGRESDB_USER                  = "n8n"
        EXECUTIONS_MODE                     = "queue"
        QUEUE_BULL_REDIS_HOST               = "redis.service.consul"
        OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS = "true"
        N8N_BLOCK_ENV_ACCESS_IN_NODE        = "true"
        NODES_EXCLUDE                       = "[\"n8n-nodes-base.executeCommand\",\"n8n-nodes-base.localFileTrigger\"]"
        N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS = "true"
      }
      resources {
        cpu    = 500
        memory = 1024
      }
    }
  }

  group "worker" {
    count = 2

    task "n8n-secrets" {
      driver = "docker"
      lifecycle {
        hook    = "prestart"
        sidecar = false
      }
      config {
        image      = "registry.example.com/n8n-secrets/n8n-secrets:0.1.0"
        entrypoint = ["/usr/local/bin/n8n-secrets"]
        args       = ["install", "/alloc/data"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }

    task "n8n" {
      driver = "docker"
      config {
        image           = "n8nio/n8n:2.40.0"
        entrypoint      = ["tini", "--", "/alloc/data/n8n-secrets", "--", "/docker-entrypoint.sh"]
        args            = ["worker", "--concurrency=10"]
        readonly_rootfs = true
        mount {
          type     = "tmpfs"
          target   = "/home/node/.n8n"
          readonly = false
          tmpfs_options { size = 67108864 }
        }
        mount {
          type     = "tmpfs"
          target   = "/home/node/.cache"
          readonly = false
          tmpfs_options { size = 268435456 }
        }
        mount {
          type     = "tmpfs"
          target   = "/tmp"
          readonly = false
          tmpfs_options { size = 268435456 }
        }
      }
      identity {
        name = "vault_default"
        aud  = ["vault.io"]
        file = true
        ttl  = "1h"
      }
      env {
        VAULT_ADDR                          = "https://vault.service.consul:8200"
        VAULT_AUTH_METHOD                   = "jwt"
        VAULT_AUTH_MOUNT                    = "jwt-nomad"
        VAULT_AUTH_ROLE                     = "n8n"
        VAULT_JWT_FILE                      = "/secrets/nomad_vault_default.jwt"
        N8N_SECRETS_EXPECT_KEY_FINGERPRINT  = ""
        N8N_ENCRYPTION_KEY                  = "vault://secret/n8n/core#encryption_key"
        DB_POSTGRESDB_PASSWORD              = "vault://secret/n8n/db#password"
        QUEUE_BULL_REDIS_PASSWORD           = "vault://secret/n8n/redis#password"
        DB_TYPE                             = "postgresdb"
        DB_POSTGRESDB_HOST                  = "postgres.service.consul"
        DB_POSTGRESDB_DATABASE              = "n8n"
        DB_POSTGRESDB_USER                  = "n8n"
        EXECUTIONS_MODE                     = "queue"
        QUEUE_BULL_REDIS_HOST               = "redis.service.consul"
        N8N_BLOCK_ENV_ACCESS_IN_NODE        = "true"
        NODES_EXCLUDE                       = "[\"n8n-nodes-base.executeCommand\",\"n8n-nodes-base.localFileTrigger\"]"
        N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS = "true"
      }
      resources {
        cpu    = 500
        memory = 1024
      }
    }
  }

  group "webhook" {
    count = 2

    network {
      port "http" { to = 5678 }
    }

    task "n8n-secrets" {
      driver = "docker"
      lifecycle {
        hook    = "prestart"
        sidecar = false
      }
      config {
        image      = "registry.example.com/n8n-secrets/n8n-secrets:0.1.0"
        entrypoint = ["/usr/local/bin/n8n-secrets"]
        args       = ["install", "/alloc/data"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }

    task "n8n" {
      driver = "docker"
      config {
        image           = "n8nio/n8n:2.40.0"
        entrypoint      = ["tini", "--", "/alloc/data/n8n-secrets", "--", "/docker-entrypoint.sh"]
        args            = ["webhook"]
        ports           = ["http"]
        readonly_rootfs = true
        mount {
          type     = "tmpfs"
          target   = "/home/node/.n8n"
          readonly = false
          tmpfs_options { size = 67108864 }
        }
        mount {
          type     = "tmpfs"
          target   = "/home/node/.cache"
          readonly = false
          tmpfs_options { size = 268435456 }
        }
        mount {
          type     = "tmpfs"
          target   = "/tmp"
          readonly = false
          tmpfs_options { size = 268435456 }
        }
      }
      identity {
        name = "vault_default"
        aud  = ["vault.io"]
        file = true
        ttl  = "1h"
      }
      env {
        VAULT_ADDR                          = "https://vault.service.consul:8200"
        VAULT_AUTH_METHOD                   = "jwt"
        VAULT_AUTH_MOUNT                    = "jwt-nomad"
        VAULT_AUTH_ROLE                     = "n8n"
        VAULT_JWT_FILE                      = "/secrets/nomad_vault_default.jwt"
        N8N_SECRETS_EXPECT_KEY_FINGERPRINT  = ""
        N8N_ENCRYPTION_KEY                  = "vault://secret/n8n/core#encryption_key"
        DB_POSTGRESDB_PASSWORD              = "vault://secret/n8n/db#password"
        QUEUE_BULL_REDIS_PASSWORD           = "vault://secret/n8n/redis#password"
        DB_TYPE                             = "postgresdb"
        DB_POSTGRESDB_HOST                  = "postgres.service.consul"
        DB_POSTGRESDB_DATABASE              = "n8n"
        DB_POSTGRESDB_USER                  = "n8n"
        EXECUTIONS_MODE                     = "queue"
        QUEUE_BULL_REDIS_HOST               = "redis.service.consul"
        N8N_BLOCK_ENV_ACCESS_IN_NODE        = "true"
        NODES_EXCLUDE                       = "[\"n8n-nodes-base.executeCommand\",\"n8n-nodes-base.localFileTrigger\"]"
        N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS = "true"
      }
      resources {
        cpu    = 200
        memory = 512
      }
    }
  }
}
