using k8s;
using k8s.Models;

namespace Koalja.Operator.Controller;

/// <summary>Applies one object the builders made, exactly as the operator does (server-side apply, field manager <c>koalja-operator</c>, forced).</summary>
public static class ServerSideApply
{
    /// <summary>The object as the API server answered it.</summary>
    public static Task<object> ApplyAsync(IKubernetes kube, IKubernetesObject<V1ObjectMeta> obj, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return ChildKinds.Of(obj).Apply(kube, obj, cancellationToken);
    }
}
