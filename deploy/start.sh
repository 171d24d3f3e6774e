#!/bin/sh
# Container entry point: listen where Railway says (PORT), then start the Functions host as the
# base image would. The base image's own start script does not read PORT.
export ASPNETCORE_URLS="http://+:${PORT:-80}"
exec /opt/startup/start_nonappservice.sh "$@"
