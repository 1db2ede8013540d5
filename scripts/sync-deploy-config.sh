#!/usr/bin/env bash
# Copies the shipped settings and pipelines into deploy/kubernetes/, where kustomize's
# configMapGenerator can read them (it reads nothing outside its own directory). The
# manifests' check (deploy/kubernetes/validate) fails when the copies drift.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p deploy/kubernetes/config deploy/kubernetes/pipelines
cp config/pipelines.yml deploy/kubernetes/config/
for conf in $(sed -n 's#^ *path.config: *\.\./pipelines/##p' config/pipelines.yml); do
    cp "pipelines/$conf" deploy/kubernetes/pipelines/
done
