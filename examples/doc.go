// Package examples holds the deployment examples of n8n-secrets (Docker
// Compose, Docker Swarm, Kubernetes, rotation scripts) and the tests that
// keep them true to the code without a container engine: every YAML file
// parses, every secret reference in them parses, every setting they use is
// one the binary knows, the Dockerfile puts the binary where its
// ENTRYPOINT runs it, and a rehearsal runs the compose cluster's init
// script and each n8n role's environment against a real Vault.
//
// It has no Go API: the files next to this one are the product.
package examples
