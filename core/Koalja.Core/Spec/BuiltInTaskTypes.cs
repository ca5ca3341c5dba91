namespace Koalja.Core.Spec;

/// <summary>Task types that Koalja runs itself, without an executor container.</summary>
public static class BuiltInTaskTypes
{
    public const string FileDrop = "FileDrop";
    public const string FileSplit = "FileSplit";
    public const string JsonQuery = "JSONQuery";
    public const string Rest = "REST";
    public const string DbQuery = "DBQuery";
    public const string CloudEventSink = "CloudEventSink";

    public static readonly IReadOnlyList<string> All = [FileDrop, FileSplit, JsonQuery, Rest, DbQuery, CloudEventSink];
}
