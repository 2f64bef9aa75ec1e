package main

const helpText = `n8n-secrets: put secrets from Vault, AWS Secrets Manager and mounted files
into a command's environment, in memory only, check n8n's encryption-key
invariants, and exec the command.

Usage:
  n8n-secrets [flags] -- CMD [ARGS...]   resolve, check, then exec CMD (default use)
  n8n-secrets check [flags] [--json] [--role start|worker|webhook]
                                         resolve everything and print a table; never a value
  n8n-secrets fingerprint [flags]        print the fingerprint of N8N_ENCRYPTION_KEY as resolved
  n8n-secrets keygen                     print a new random encryption key (32 bytes, base64)
  n8n-secrets audit [--format table|json|sarif] [--fail-on error|warning|info] [PATH...]
                                         check deployment files (Compose, Swarm, Kubernetes,
                                         Dockerfiles, .env, Vault policies); exit 1 on findings
  n8n-secrets verify-key [--json]        decrypt every encrypted value in n8n's database with
                                         N8N_ENCRYPTION_KEY; counts and ids, never a value
  n8n-secrets rekey --to REF [--from REF] [--apply] [--rewrap-only] [--skip-undecryptable] [--assume-stopped]
                    [--signing-secrets keep|regenerate] [--json]
                                         re-encrypt n8n's database under a new key (dry run
                                         unless --apply); REF: vault://…, awssm://…, file:…
                                         or a variable's name, never the key itself
  n8n-secrets codes [--json]             list the stable codes of the logs, for alert rules
  n8n-secrets version, --version         print the version
  n8n-secrets help                       print this text

In a Dockerfile built on n8nio/n8n:
  ENTRYPOINT ["tini", "--", "/usr/local/bin/n8n-secrets", "--", "/docker-entrypoint.sh"]

References (a variable whose whole value starts with a scheme):
  vault://<path>[?version=N][#<selector>]          N8N_ENCRYPTION_KEY=vault://secret/n8n/core#encryption_key
  awssm://<name or ARN>[?<options>][#<selector>]   DB_POSTGRESDB_PASSWORD=awssm://prod/n8n/db#password
       options: version-stage=AWSPREVIOUS, version-id=ID, region=eu-west-1
  file:<name>[#<selector>]                         relative to the secrets dir (/run/secrets)
  file:///<absolute path>[#<selector>]
  NAME_FILE=/absolute/path                         NAME gets the file's contents; NAME_FILE is removed

  Selector: #key takes a top-level key of a JSON object, #/a/b is a JSON pointer.
  Without one, vault takes the secret's only key, awssm and file the whole value.
  Every scheme takes ?optional=true: a missing secret removes the variable.
  File contents lose one trailing newline. Anything malformed is an error.

Settings (each a variable N8N_SECRETS_<NAME> and a flag; the flag wins):
  --dir DIR                     N8N_SECRETS_DIR                     secrets dir (/run/secrets)
  --timeout 30s                 N8N_SECRETS_TIMEOUT                 total deadline, retries included
  --concurrency 64              N8N_SECRETS_CONCURRENCY             fetches in flight
  --log-format json|text        N8N_SECRETS_LOG_FORMAT              logs on stderr (json)
  --log-level info              N8N_SECRETS_LOG_LEVEL               debug, info, warn, error
  --passthrough LIST            N8N_SECRETS_PASSTHROUGH             provider variables to keep (VAULT_ADDR,AWS_REGION)
  --skip LIST                   N8N_SECRETS_SKIP                    variables never treated as references
  --n8n auto|on|off             N8N_SECRETS_N8N                     the n8n guard (auto)
  --n8n-settings check|sync     N8N_SECRETS_N8N_SETTINGS            ~/.n8n/config with another key: refuse or rewrite
  --expect-key-fingerprint FP   N8N_SECRETS_EXPECT_KEY_FINGERPRINT  refuse another encryption key
  --allow-http                  N8N_SECRETS_ALLOW_HTTP              allow http:// to a store off loopback
  --verify-key auto|on|off      N8N_SECRETS_VERIFY_KEY              check the key against n8n's database before start
  --mode exec|supervise         N8N_SECRETS_MODE                    exec (default), or stay the command's parent:
                                                                    signals, reaping, leases, restarts on new versions
  --refresh 5m                  N8N_SECRETS_REFRESH                 supervise: how often to look for new versions (0: never)
  --on-change restart           N8N_SECRETS_ON_CHANGE               supervise: restart, signal:NAME, exit (75) or none
  --splay 60s                   N8N_SECRETS_SPLAY                   supervise: longest random delay before a restart

Vault: VAULT_ADDR, VAULT_TOKEN or VAULT_TOKEN_FILE (default <dir>/vault_token),
  VAULT_AUTH_METHOD=token|approle|jwt|kubernetes, VAULT_AUTH_MOUNT, VAULT_AUTH_ROLE,
  VAULT_ROLE_ID[_FILE], VAULT_SECRET_ID[_FILE], VAULT_SECRET_ID_RESPONSE_WRAPPING_PATH,
  VAULT_JWT_FILE, VAULT_NAMESPACE,
  VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_TLS_SERVER_NAME,
  VAULT_SKIP_VERIFY.
AWS: the SDK's default chain (environment, profiles, IRSA, ECS task role, IMDS).
Provider credentials and N8N_SECRETS_* are removed from the child unless passed through.

Exit codes before exec (after exec the code is the command's):
  64 usage or settings   65 bad reference, missing secret or key, bad data
  69 store or database unreachable   77 authentication or permission
  78 the n8n guard refused, the key does not match n8n's database, or rekey found it in use
  126 command not executable   127 command not found   130/143 stopped by SIGINT/SIGTERM
Supervise mode: the command's code (128+N when it died of signal N); 75 when
  N8N_SECRETS_ON_CHANGE=exit stopped it for new values.
`
