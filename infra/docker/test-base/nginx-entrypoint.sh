#!/bin/sh
# What the official nginx image's entrypoint does for herald: render every
# /etc/nginx/templates/*.template into /etc/nginx/conf.d, replacing only the environment
# variables whose names match NGINX_ENVSUBST_FILTER (nginx's own $variables stay), then run nginx.
set -eu
if [ "${1:-}" = nginx ]; then
  vars=$(env | cut -d= -f1 | grep -E "${NGINX_ENVSUBST_FILTER:-.}" | sed 's/.*/${&}/' | tr '\n' ' ')
  for template in /etc/nginx/templates/*.template; do
    [ -e "$template" ] || continue
    envsubst "$vars" <"$template" >"/etc/nginx/conf.d/$(basename "$template" .template)"
  done
fi
exec "$@"
