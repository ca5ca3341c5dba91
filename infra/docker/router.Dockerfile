# The router's image: the koalja tool, which the operator runs per pipeline as
#   koalja up /etc/koalja/pipeline/pipeline.json --task-host remote --task-urls /etc/koalja/pipeline/tasks.json
#             --listen 0.0.0.0 --port 8080 --scaler-port 9090 --data /var/lib/koalja/router ...
# (the HTTP API on 8080, KEDA's external scaler on 9090; see PipelineManifests in operator/Koalja.Operator).
#
# NOT BUILT HERE: the development machines have no Docker engine and cannot pull from mcr.microsoft.com. The cluster
# tests build an equivalent image from the same published output (docs/operations.md).
#
# Build from the repository root:
#   docker build -f infra/docker/router.Dockerfile -t koalja/router:dev .
ARG RUNTIME=mcr.microsoft.com/dotnet/aspnet:10.0
ARG SDK=mcr.microsoft.com/dotnet/sdk:10.0

FROM ${SDK} AS build
WORKDIR /src
COPY . .
RUN dotnet publish cli/Koalja.Cli/Koalja.Cli.csproj -c Release -o /app /p:UseAppHost=false

FROM ${RUNTIME}
RUN useradd --system --uid 10001 --home-dir /var/lib/koalja --create-home koalja
COPY --from=build /app /app
USER 10001
EXPOSE 8080 9090
ENV DOTNET_gcServer=0
ENTRYPOINT ["dotnet", "/app/koalja.dll"]
