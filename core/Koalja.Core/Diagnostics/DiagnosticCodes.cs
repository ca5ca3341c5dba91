namespace Koalja.Core.Diagnostics;

/// <summary>
/// Every diagnostic code Koalja reports about pipeline files. Codes are stable: tools and tests may
/// match on them. docs/diagnostics.md explains each one.
/// </summary>
public static class DiagnosticCodes
{
    // KJ00xx: reading the file
    public const string FileUnreadable = "KJ0001";
    public const string SyntaxError = "KJ0002";
    public const string EmptyFile = "KJ0003";
    public const string NotText = "KJ0004";
    public const string FileTooLarge = "KJ0005";
    public const string DocumentNotMapping = "KJ0006";
    public const string NoPipeline = "KJ0007";
    public const string UnsupportedApiVersion = "KJ0008";
    public const string MissingApiVersionOrKind = "KJ0009";
    public const string DuplicateKey = "KJ0010";
    public const string DocumentTooComplex = "KJ0011";
    public const string UnsupportedYamlFeature = "KJ0012";
    public const string OtherDocumentSkipped = "KJ0013";
    public const string UnknownKind = "KJ0014";

    // KJ01xx: shape of the document
    public const string UnknownField = "KJ0100";
    public const string WrongNodeType = "KJ0101";
    public const string NotAnInteger = "KJ0102";

    // KJ02xx: the original Koalja rules, with the original messages
    public const string NameExpected = "KJ0200";
    public const string InvalidName = "KJ0201";
    public const string ExecutorOrTypeExpected = "KJ0202";
    public const string TaskWithoutInputsOrOutputs = "KJ0203";
    public const string InvalidSnapshotPolicy = "KJ0204";
    public const string InvalidLaunchPolicy = "KJ0205";
    public const string DuplicateInputName = "KJ0206";
    public const string TypeRefExpected = "KJ0207";
    public const string MinSequenceLengthTooSmall = "KJ0208";
    public const string MaxSmallerThanMin = "KJ0209";
    public const string SwapNew4OldMinNotOne = "KJ0210";
    public const string SwapNew4OldMaxNotOne = "KJ0211";
    public const string SlidingWindowMaxNotMin = "KJ0212";
    public const string SlideTooSmall = "KJ0213";
    public const string SlideTooLarge = "KJ0214";
    public const string TypeRefNotFound = "KJ0215";
    public const string MergeIntoNotFound = "KJ0216";
    public const string MergeIntoChain = "KJ0217";
    public const string MergeIntoOtherType = "KJ0218";
    public const string MergeIntoSelf = "KJ0219";
    public const string DuplicateOutputName = "KJ0220";
    public const string InvalidOutputReadiness = "KJ0221";
    public const string ExecutorWithoutImage = "KJ0222";
    public const string PortOutOfRange = "KJ0223";
    public const string LocalPortOutOfRange = "KJ0224";
    public const string ServiceWithoutPorts = "KJ0225";
    public const string SourceRefExpected = "KJ0226";
    public const string DestinationRefExpected = "KJ0227";
    public const string MalformedRef = "KJ0228";
    public const string RefTaskNameExpected = "KJ0229";
    public const string RefIoNameExpected = "KJ0230";

    // KJ03xx: what the original left open
    public const string InvalidPipelineName = "KJ0300";
    public const string DuplicateTaskName = "KJ0301";
    public const string DuplicateLinkName = "KJ0302";
    public const string DuplicateTypeName = "KJ0303";
    public const string LinkTaskNotFound = "KJ0304";
    public const string LinkOutputNotFound = "KJ0305";
    public const string LinkInputNotFound = "KJ0306";
    public const string InputWithoutLink = "KJ0307";
    public const string InputWithSeveralLinks = "KJ0308";
    public const string LinkTypeMismatch = "KJ0309";
    public const string InvalidProtocol = "KJ0310";
    public const string ProtocolExpected = "KJ0311";
    public const string RequiredConflictsWithMinMax = "KJ0312";
    public const string SequenceLengthTooLarge = "KJ0313";
    public const string UnknownTaskType = "KJ0314";
    public const string SlideWithoutSlidingWindow = "KJ0315";
    public const string DuplicatePortName = "KJ0316";
    public const string DuplicatePipelineName = "KJ0317";
    public const string TaskOptionMissing = "KJ0318";
    public const string TaskOptionInvalid = "KJ0319";
    public const string TaskOptionUnknown = "KJ0320";
    public const string SinkWithoutInputs = "KJ0321";
    public const string NameTooLong = "KJ0322";
    public const string InvalidPortName = "KJ0323";
    public const string AutoReadinessOnCommand = "KJ0324";
    public const string MaxReplicasOutOfRange = "KJ0325";
    public const string MaxReplicasWithoutInputs = "KJ0326";

    // KJ04xx: command and argument templates
    public const string TemplateSyntax = "KJ0400";
    public const string TemplateReference = "KJ0401";
}
