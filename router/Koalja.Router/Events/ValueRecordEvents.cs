using CloudNative.CloudEvents;
using Koalja.Router.Registry;
using Koalja.Core.Events;

namespace Koalja.Router.Events;

/// <summary>Registry values as <c>io.koalja.value</c> events, their content at the API's content URL.</summary>
internal static class ValueRecordEvents
{
    public static ValueEventData Data(ValueRecord v, string @namespace) =>
        new(@namespace, v.Pipeline, v.Task, v.Output, v.OutputIndex, v.Id, v.Sha256, v.Size, v.MediaType, v.CreatedAt, v.Revision, v.CodeVersion, v.SnapshotId);

    public static CloudEvent Create(ValueRecord v, string @namespace, Uri apiBase) => ValueEvents.Create(Data(v, @namespace), ContentUrl(apiBase, v.Id).ToString());

    /// <summary>Where the API serves a value's content.</summary>
    public static Uri ContentUrl(Uri apiBase, string valueId) => new(apiBase, $"/api/values/{Uri.EscapeDataString(valueId)}/content");
}
