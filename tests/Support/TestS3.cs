using Amazon.Runtime;
using Amazon.S3;

namespace Koalja.Testing;

/// <summary>A client of the test S3 server (tests/servers/rgw) and the buckets the tests keep values in.</summary>
internal static class TestS3
{
    private static readonly Dictionary<string, Lazy<Task>> Buckets = new(StringComparer.Ordinal);

    public static BasicAWSCredentials Credentials => new(TestServers.S3("ACCESS_KEY"), TestServers.S3("SECRET_KEY"));

    /// <summary>A client with the settings the server needs (path style, no trailing checksums).</summary>
    public static AmazonS3Client Client() => new(Credentials, new AmazonS3Config
    {
        ServiceURL = TestServers.S3("ENDPOINT"),
        ForcePathStyle = true,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>Makes the bucket once per test process; returns its name.</summary>
    public static async Task<string> BucketAsync(string name)
    {
        Lazy<Task> made;
        lock (Buckets)
        {
            if (!Buckets.TryGetValue(name, out made!))
            {
                Buckets[name] = made = new Lazy<Task>(() => CreateAsync(name));
            }
        }

        await made.Value;
        return name;
    }

    private static async Task CreateAsync(string name)
    {
        using var client = Client();
        try
        {
            await client.PutBucketAsync(name);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }
}
