# The fake Attio webhooks API in an image with nothing else in it.
# Built by scripts/build-image.sh (from target/static, the build context):
#
#   docker run --rm -p 127.0.0.1:8080:8080 \
#     -e FAKE_ATTIO_TOKENS=my-token -e FAKE_ATTIO_CONTROL_TOKEN=my-control-token \
#     fake-attio:local
#
# It listens on all interfaces, port 8080, and refuses to start without a
# control token (FAKE_ATTIO_CONTROL_TOKEN, or --no-control for no control
# routes at all). More flags go after the image name; a later --port wins.
FROM scratch
COPY fake-attio /fake-attio
# No /etc/passwd is needed for a numeric user; 65532 is the usual "nonroot".
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/fake-attio", "--host", "0.0.0.0", "--port", "8080"]
