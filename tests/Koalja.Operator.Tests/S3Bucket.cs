using Amazon.Runtime;
using Amazon.S3;

namespace Koalja.Operator.Tests;

/// <summary>The bucket the operator's tests keep values in on the test S3 server (made once).</summary>
internal static class S3Bucket
{
    public const string Name = "koalja-operator-tests";

    private static readonly Lazy<Task<string>> Made = new(async () =>
    {
        using var client = new AmazonS3Client(new BasicAWSCredentials(Testing.TestServers.S3("ACCESS_KEY"), Testing.TestServers.S3("SECRET_KEY")), new AmazonS3Config
        {
            ServiceURL = Testing.TestServers.S3("ENDPOINT"),
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
        try
        {
            await client.PutBucketAsync(Name);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }

        return Name;
    });

    public static Task<string> EnsureAsync() => Made.Value;
}
