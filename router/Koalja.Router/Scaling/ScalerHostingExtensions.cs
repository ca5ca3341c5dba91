using Koalja.Scaler;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Koalja.Router.Scaling;

/// <summary>Hosts KEDA's external scaler in the router: <c>AddKoaljaScaler</c> + <c>MapKoaljaScaler</c> on its own HTTP/2 port.</summary>
public static class ScalerHostingExtensions
{
    /// <summary>The scaler service, answering from the router's dispatchers (needs <c>AddKoaljaRouter</c>).</summary>
    public static IServiceCollection AddKoaljaScaler(this IServiceCollection services)
    {
        services.AddGrpc();
        services.AddSingleton<ITaskLoadSource, RouterTaskLoads>();
        return services;
    }

    /// <summary>
    /// Serves the scaler to connections on <paramref name="port"/> only, ahead of the HTTP API and its key and Host checks
    /// (KEDA sends neither); everything else on that port is 404, and the scaler is not served on the API's port.
    /// </summary>
    public static IApplicationBuilder MapKoaljaScaler(this IApplicationBuilder app, int port) =>
        app.MapWhen(http => http.Connection.LocalPort == port, scaler =>
        {
            scaler.UseRouting();
            scaler.UseEndpoints(endpoints => endpoints.MapGrpcService<KoaljaExternalScaler>());
            scaler.Run(http =>
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
}
