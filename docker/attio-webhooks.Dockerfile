# The attio-webhooks CLI in an image with nothing else in it: a receiver
# (`listen`) or the management commands in a compose network. Built by
# scripts/build-image.sh (from target/static, the build context):
#
#   docker run --rm -e ATTIO_API_KEY attio-webhooks:local list
#   docker run --rm -p 3000:3000 attio-webhooks:local \
#     listen --host 0.0.0.0 --port 3000 --secret-file /run/secrets/attio_webhook_secret
FROM scratch
COPY attio-webhooks /attio-webhooks
USER 65532:65532
ENTRYPOINT ["/attio-webhooks"]
