
namespace Koalja.Storage.Tests;

public sealed class StorageSettingsTests
{
    [Theory]
    [InlineData("ftp://bucket/x", "", "'ftp://' is not a storage")]
    [InlineData("not a url", "", "is not a storage URL")]
    [InlineData("local:", "", "names no directory")]
    [InlineData("s3:///prefix", "", "names no bucket")]
    [InlineData("s3://bucket/p?endpont=http://x", "", "unknown S3 setting 'endpont'")]
    [InlineData("s3://bucket/p?endpoint=ftp://x", "", "--storage endpoint 'ftp://x' is not an http:// or https:// address")]
    [InlineData("s3://bucket/p?pathStyle=maybe", "", "--storage pathStyle 'maybe' is not true or false")]
    [InlineData("s3://bucket/p", "S3_ACCESS_KEY=k", "S3_ACCESS_KEY and S3_SECRET_KEY go together")]
    [InlineData("azblob://container/p", "", "needs AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_URL")]
    [InlineData("azblob://container/p", "AZURE_STORAGE_CONNECTION_STRING=nonsense", "AZURE_STORAGE_CONNECTION_STRING is not a valid connection string")]
    [InlineData("https://account.blob.core.windows.net/", "", "names no container")]
    [InlineData("", "STORAGETYPE=ceph", "STORAGETYPE 'ceph' is not a storage type: use local, s3 or azure")]
    [InlineData("", "STORAGETYPE=s3", "STORAGETYPE=s3 needs S3_BUCKET")]
    [InlineData("", "STORAGETYPE=s3;S3_BUCKET=b;S3_ENDPOINT=localhost:9000", "S3_ENDPOINT 'localhost:9000' is not an http:// or https:// address")]
    [InlineData("", "STORAGETYPE=azure", "STORAGETYPE=azure needs AZURE_STORAGE_CONTAINER")]
    [InlineData("", "STORAGETYPE=azure;AZURE_STORAGE_CONTAINER=c;AZURE_STORAGE_ACCOUNT_URL=nope", "AZURE_STORAGE_ACCOUNT_URL 'nope' is not a URL")]
    public async Task AWrongSettingIsRefusedNamingIt(string flag, string environment, string message)
    {
        var error = await Assert.ThrowsAsync<StorageConfigurationException>(() => StorageSettings.OpenAsync(flag, Env(environment), Path.GetTempPath()));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutSettingsValuesStayInTheDataDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("koalja-settings-").FullName;
        try
        {
            var store = Assert.IsType<LocalArtifactStore>(await StorageSettings.OpenAsync(null, Env(""), Path.Combine(dir, "blobs")));
            Assert.Equal(Path.Combine(dir, "blobs"), store.Root);
            Assert.Equal(Path.Combine(dir, "elsewhere"), Assert.IsType<LocalArtifactStore>(await StorageSettings.OpenAsync(null, Env($"STORAGETYPE=local;KOALJA_LOCAL_PATH={dir}/elsewhere"), dir)).Root);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task TheS3ServerAndTheBucketAreCheckedAtStart()
    {
        var endpoint = Testing.TestServers.S3("ENDPOINT");
        var keys = $"S3_ACCESS_KEY={Testing.TestServers.S3("ACCESS_KEY")};S3_SECRET_KEY={Testing.TestServers.S3("SECRET_KEY")}";
        _ = TestBuckets.S3Options("");

        using var store = Assert.IsType<S3ArtifactStore>(await StorageSettings.OpenAsync($"s3://{TestBuckets.Bucket}/settings?endpoint={endpoint}", Env(keys), "unused"));
        using var fromEnvironment = Assert.IsType<S3ArtifactStore>(await StorageSettings.OpenAsync(null, Env($"STORAGETYPE=s3;S3_BUCKET={TestBuckets.Bucket};S3_ENDPOINT={endpoint};{keys}"), "unused"));

        var missing = await Assert.ThrowsAsync<StorageUnavailableException>(() => StorageSettings.OpenAsync($"s3://no-such-bucket/x?endpoint={endpoint}", Env(keys), "unused"));
        Assert.Contains("The bucket 'no-such-bucket' does not exist", missing.Message, StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<StorageUnavailableException>(() =>
            StorageSettings.OpenAsync($"s3://{TestBuckets.Bucket}/x?endpoint={endpoint}", Env($"S3_ACCESS_KEY={Testing.TestServers.S3("ACCESS_KEY")};S3_SECRET_KEY=wrong"), "unused"));
        Assert.Contains("refused the credentials", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBlobContainerIsCheckedAtStart()
    {
        _ = TestBuckets.Container();
        var connection = $"AZURE_STORAGE_CONNECTION_STRING={Testing.TestServers.Azure}";

        Assert.IsType<BlobArtifactStore>(await StorageSettings.OpenAsync($"azblob://{TestBuckets.ContainerName}/settings", Env(connection), "unused"));
        var missing = await Assert.ThrowsAsync<StorageUnavailableException>(() => StorageSettings.OpenAsync("azblob://no-such-container/x", Env(connection), "unused"));
        Assert.Contains("The container 'no-such-container' does not exist", missing.Message, StringComparison.Ordinal);
    }

    /// <summary>An environment of NAME=VALUE pairs separated by ';' (a connection string's own ';' survive: they follow an '=').</summary>
    private static Func<string, string?> Env(string pairs)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? last = null;
        foreach (var part in pairs.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                values[last = part[..eq]] = part[(eq + 1)..];
            }
            else if (last is not null)
            {
                values[last] += ";" + part;
            }
        }

        return name => values.GetValueOrDefault(name);
    }
}
