# Build stage: the SDK publishes the function app to /home/site/wwwroot, as `func init --docker` does,
# and the operator CLI beside it.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS installer-env

COPY . /src/dotnet-function-app
RUN cd /src/dotnet-function-app && \
    mkdir -p /home/site/wwwroot && \
    dotnet publish src/Emergence.Functions/Emergence.Functions.csproj --configuration Release --output /home/site/wwwroot && \
    dotnet publish src/Emergence.Cli/Emergence.Cli.csproj --configuration Release --output /opt/emergence-db

# Runtime: the official Functions host image for .NET 10 isolated workers (amd64).
FROM mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0

# PORT is Railway's; deploy/start.sh turns it into the host's listen address (80 when unset).
# Railway mounts the volume at /app/data at run time; no VOLUME line (Railway's builder rejects it).
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    FUNCTIONS_WORKER_RUNTIME=dotnet-isolated \
    PORT=80 \
    BACKUP_SCHEDULE="0 0 * * * *" \
    DRILL_SCHEDULE="0 30 3 * * *" \
    Persistence__DatabasePath=/app/data/database.sqlite \
    Persistence__RequireVolume=true \
    Persistence__FallbackDirectory=/tmp/emergence-fallback \
    AzureWebJobsSecretStorageType=files \
    FUNCTIONS_SECRETS_PATH=/app/data/secrets

COPY --from=installer-env ["/home/site/wwwroot", "/home/site/wwwroot"]
COPY --from=installer-env ["/opt/emergence-db", "/opt/emergence-db"]
COPY deploy/start.sh /opt/emergence/start.sh
COPY deploy/emergence-db /usr/local/bin/emergence-db

EXPOSE 80
CMD ["/opt/emergence/start.sh"]
