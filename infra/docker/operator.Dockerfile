# The operator's image: the koalja tool running `koalja operator` (Lease leader election, then the controller that
# reconciles Pipeline resources). Its ServiceAccount, RBAC and Deployment are in infra/install.
#
# NOT BUILT HERE: the development machines have no Docker engine and cannot pull from mcr.microsoft.com. The cluster
# tests build an equivalent image from the same published output (docs/operations.md).
#
# Build from the repository root:
#   docker build -f infra/docker/operator.Dockerfile -t koalja/operator:dev .
ARG RUNTIME=mcr.microsoft.com/dotnet/aspnet:10.0
ARG SDK=mcr.microsoft.com/dotnet/sdk:10.0

FROM ${SDK} AS build
WORKDIR /src
COPY . .
RUN dotnet publish cli/Koalja.Cli/Koalja.Cli.csproj -c Release -o /app /p:UseAppHost=false

# The CLI hosts ASP.NET Core (koalja up), so the runtime is aspnet for the operator too.
FROM ${RUNTIME}
RUN useradd --system --uid 10001 --home-dir /var/lib/koalja --create-home koalja
COPY --from=build /app /app
USER 10001
ENV DOTNET_gcServer=0
ENTRYPOINT ["dotnet", "/app/koalja.dll", "operator"]
