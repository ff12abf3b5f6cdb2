#!/usr/bin/env bash
# The Secrets the manifests reference (never written into them). Run once per namespace.
set -euo pipefail
ns=${NAMESPACE:-fleet}
# PostgreSQL: the store every node shares (SQLite cannot be shared between nodes)
kubectl -n "$ns" create secret generic fleet-store \
  --from-literal=url="postgresql+psycopg://fleet:${FLEET_DB_PASSWORD:?}@postgres:5432/fleet"
# S3-compatible storage for artifacts, checkpoints and prediction logs
kubectl -n "$ns" create secret generic fleet-s3 \
  --from-literal=access_key_id="${AWS_ACCESS_KEY_ID:?}" \
  --from-literal=secret_access_key="${AWS_SECRET_ACCESS_KEY:?}"
# Ray's token auth (authOptions.mode: token): KubeRay reads the token from this Secret
kubectl -n "$ns" create secret generic fleet-ray-token \
  --from-literal=auth_token="$(openssl rand -hex 32)"
# The identity training RayJobs invoke as (a Fleet token with the invoke scope)
kubectl -n "$ns" create secret generic fleet-train-token \
  --from-literal=token="${FLEET_TRAIN_TOKEN:?}"
# Alertmanager's Fleet token (notify scope), mounted at /etc/fleet/notify.token
kubectl -n "$ns" create secret generic fleet-alertmanager-token \
  --from-literal=notify.token="${FLEET_NOTIFY_TOKEN:?}"
