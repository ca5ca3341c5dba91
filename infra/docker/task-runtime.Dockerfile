# The task-runtime image: Koalja's task function app (functions/Koalja.Functions) under the Azure Functions host, with
# the tools pipeline commands commonly call. One image serves every task; the operator sets which pipeline and task a
# Deployment runs through its environment, and KEDA scales it (see docs/functions.md).
#
# NOT BUILT HERE: the development machines have no Docker engine and cannot pull from mcr.microsoft.com. It is written
# from the base image's documented layout: the Functions host is preinstalled, it loads the app from
# AzureWebJobsScriptRoot (/home/site/wwwroot), starts the isolated worker itself (`dotnet Koalja.Functions.dll`, named in
# worker.config.json) and serves HTTP triggers on ASPNETCORE_URLS. What the tests run instead: the same published app
# under Koalja's protocol-level host (functions/Koalja.Functions.Host), which speaks the host's gRPC protocol to it.
#
# Build from the repository root:
#   docker build -f infra/docker/task-runtime.Dockerfile -t koalja/task-runtime:dev .
ARG FUNCTIONS_BASE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0
ARG SDK=mcr.microsoft.com/dotnet/sdk:10.0

FROM ${SDK} AS build
WORKDIR /src
# What the app's build reads, first (restore is cached while only sources change).
COPY Directory.Build.props Directory.Packages.props global.json host.json ./
COPY core/Koalja.Core/Koalja.Core.csproj core/Koalja.Core/
COPY storage/Koalja.Storage/Koalja.Storage.csproj storage/Koalja.Storage/
COPY functions/Koalja.Tasks/Koalja.Tasks.csproj functions/Koalja.Tasks/
COPY functions/Koalja.Functions/Koalja.Functions.csproj functions/Koalja.Functions/
RUN dotnet restore functions/Koalja.Functions/Koalja.Functions.csproj
COPY core/ core/
COPY storage/ storage/
COPY functions/Koalja.Tasks/ functions/Koalja.Tasks/
COPY functions/Koalja.Functions/ functions/Koalja.Functions/
RUN dotnet publish functions/Koalja.Functions/Koalja.Functions.csproj -c Release -o /home/site/wwwroot --no-restore /p:UseAppHost=false

FROM ${FUNCTIONS_BASE}
# Tools pipeline commands call (the base image is Debian): a shell and coreutils for command templates, python3 for
# dropped scripts, jq for JSON, ca-certificates for HTTPS sinks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bash coreutils python3 jq ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A user of its own: commands never run as root. Work and unpacked code live under /koalja (an emptyDir in the pod).
RUN useradd --system --uid 10001 --home-dir /koalja --create-home koalja
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    FUNCTIONS_WORKER_RUNTIME=dotnet-isolated \
    ASPNETCORE_URLS=http://+:8080 \
    KOALJA_WORK_ROOT=/koalja/work \
    KOALJA_CODE_ROOT=/koalja/code
COPY --from=build /home/site/wwwroot /home/site/wwwroot
USER 10001
EXPOSE 8080
# The store (STORAGETYPE and its variables, or KOALJA_STORAGE), KOALJA_ROUTER_URL and KOALJA_COMMAND_TIMEOUT come from
# the Deployment the operator writes; the function key from the host's key store (AzureWebJobsSecretStorageType=kubernetes).
