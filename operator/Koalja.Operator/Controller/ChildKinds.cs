using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Koalja.Operator.Controller;

/// <summary>
/// A kind of object the operator makes for a pipeline, and how to apply, list and delete it through the API server:
/// server-side apply (field manager <see cref="ChildKinds.FieldManager"/>, forced: the operator owns these fields;
/// it answers the object as applied),
/// a list by label selector, and deletion in the background (dependents go by garbage collection).
/// </summary>
internal sealed record ChildKind(
    string Kind,
    string ApiVersion,
    string Plural,
    Func<IKubernetes, IKubernetesObject<V1ObjectMeta>, CancellationToken, Task<object>> Apply,
    Func<IKubernetes, string, string, CancellationToken, Task<IReadOnlyList<V1ObjectMeta>>> List,
    Func<IKubernetes, string, string, CancellationToken, Task> Delete)
{
    /// <summary>Apply before others: the order in which objects are torn down (ScaledObjects and ingresses first, so nothing scales or routes to pods going away).</summary>
    public int TeardownOrder { get; init; } = 1;
}

internal static class ChildKinds
{
    public const string FieldManager = "koalja-operator";
    private const string Background = "Background";

    public static readonly ChildKind ConfigMap = new("ConfigMap", "v1", "configmaps",
        async (k, o, ct) => await k.CoreV1.PatchNamespacedConfigMapAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        (k, ns, name, ct) => k.CoreV1.DeleteNamespacedConfigMapAsync(name, ns, propagationPolicy: Background, cancellationToken: ct));

    public static readonly ChildKind PersistentVolumeClaim = new("PersistentVolumeClaim", "v1", "persistentvolumeclaims",
        async (k, o, ct) => await k.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.CoreV1.ListNamespacedPersistentVolumeClaimAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        (k, ns, name, ct) => k.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(name, ns, propagationPolicy: Background, cancellationToken: ct))
    { TeardownOrder = 3 };

    public static readonly ChildKind ServiceAccount = new("ServiceAccount", "v1", "serviceaccounts",
        async (k, o, ct) => await k.CoreV1.PatchNamespacedServiceAccountAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.CoreV1.ListNamespacedServiceAccountAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        (k, ns, name, ct) => k.CoreV1.DeleteNamespacedServiceAccountAsync(name, ns, propagationPolicy: Background, cancellationToken: ct))
    { TeardownOrder = 3 };

    public static readonly ChildKind Role = new("Role", "rbac.authorization.k8s.io/v1", "roles",
        async (k, o, ct) => await k.RbacAuthorizationV1.PatchNamespacedRoleAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.RbacAuthorizationV1.ListNamespacedRoleAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        (k, ns, name, ct) => k.RbacAuthorizationV1.DeleteNamespacedRoleAsync(name, ns, propagationPolicy: Background, cancellationToken: ct))
    { TeardownOrder = 3 };

    public static readonly ChildKind RoleBinding = new("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings",
        async (k, o, ct) => await k.RbacAuthorizationV1.PatchNamespacedRoleBindingAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        (k, ns, name, ct) => k.RbacAuthorizationV1.DeleteNamespacedRoleBindingAsync(name, ns, propagationPolicy: Background, cancellationToken: ct))
    { TeardownOrder = 3 };

    public static readonly ChildKind Service = new("Service", "v1", "services",
        async (k, o, ct) => await k.CoreV1.PatchNamespacedServiceAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        DeleteServiceAsync);

    public static readonly ChildKind Deployment = new("Deployment", "apps/v1", "deployments",
        async (k, o, ct) => await k.AppsV1.PatchNamespacedDeploymentAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        (k, ns, name, ct) => k.AppsV1.DeleteNamespacedDeploymentAsync(name, ns, propagationPolicy: Background, cancellationToken: ct))
    { TeardownOrder = 2 };

    public static readonly ChildKind Ingress = new("Ingress", "networking.k8s.io/v1", "ingresses",
        async (k, o, ct) => await k.NetworkingV1.PatchNamespacedIngressAsync(Apply(o), o.Name(), o.Namespace(), fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false),
        async (k, ns, selector, ct) => (await k.NetworkingV1.ListNamespacedIngressAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items.Select(i => i.Metadata).ToList(),
        (k, ns, name, ct) => k.NetworkingV1.DeleteNamespacedIngressAsync(name, ns, propagationPolicy: Background, cancellationToken: ct))
    { TeardownOrder = 0 };

    public static readonly ChildKind ScaledObject = Custom("ScaledObject", Operator.ScaledObject.Group, Operator.ScaledObject.Version, "scaledobjects", teardownOrder: 0);

    public static readonly ChildKind HttpProxy = Custom("HTTPProxy", Operator.HttpProxy.Group, Operator.HttpProxy.Version, "httpproxies", teardownOrder: 0);

    /// <summary>Every kind, in teardown order.</summary>
    public static readonly IReadOnlyList<ChildKind> All =
        new[] { ConfigMap, PersistentVolumeClaim, ServiceAccount, Role, RoleBinding, Service, Deployment, Ingress, ScaledObject, HttpProxy }.OrderBy(k => k.TeardownOrder).ToList();

    /// <summary>The kind of a built object.</summary>
    public static ChildKind Of(IKubernetesObject<V1ObjectMeta> obj) =>
        All.FirstOrDefault(k => k.Kind == obj.Kind && k.ApiVersion == obj.ApiVersion)
        ?? throw new InvalidOperationException($"The operator does not apply {obj.ApiVersion} {obj.Kind}.");

    private static ChildKind Custom(string kind, string group, string version, string plural, int teardownOrder) =>
        new(kind, $"{group}/{version}", plural,
            (k, o, ct) => k.CustomObjects.PatchNamespacedCustomObjectAsync(Apply(o), group, version, o.Namespace(), plural, o.Name(), fieldManager: FieldManager, force: true, cancellationToken: ct),
            async (k, ns, selector, ct) =>
            {
                var list = await k.CustomObjects.ListNamespacedCustomObjectAsync<MetadataList>(group, version, ns, plural, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false);
                return list.Items.Select(i => i.Metadata).ToList();
            },
            (k, ns, name, ct) => k.CustomObjects.DeleteNamespacedCustomObjectAsync(group, version, ns, plural, name, propagationPolicy: Background, cancellationToken: ct))
        { TeardownOrder = teardownOrder };

    private static V1Patch Apply(IKubernetesObject<V1ObjectMeta> obj) => new(obj, V1Patch.PatchType.ApplyPatch);

    /// <summary>
    /// Deletes a Service. API servers before 1.24 answer a Service's deletion with a <c>Status</c> body, which the typed
    /// client cannot read as the Service it expects; the deletion has then happened, so that is success.
    /// </summary>
    private static async Task DeleteServiceAsync(IKubernetes kube, string ns, string name, CancellationToken ct)
    {
        try
        {
            await kube.CoreV1.DeleteNamespacedServiceAsync(name, ns, propagationPolicy: Background, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException)
        {
        }
    }

    /// <summary>The items' metadata of any list.</summary>
    private sealed class MetadataList
    {
        [JsonPropertyName("items")]
        public List<MetadataOnly> Items { get; set; } = [];
    }

    private sealed class MetadataOnly
    {
        [JsonPropertyName("metadata")]
        public V1ObjectMeta Metadata { get; set; } = new();
    }
}
