using Amazon.Runtime;
using Azure.Identity;
using Azure.Storage.Blobs;

namespace Koalja.Storage;

/// <summary>A storage setting is wrong; the message names the setting (flag or environment variable) and what would work.</summary>
public sealed class StorageConfigurationException(string message) : Exception(message);

/// <summary>
/// Where values are stored, from <c>--storage</c> or, without it, the environment the cluster sets (<c>STORAGETYPE</c> and the
/// variables of each type); the default is the data directory. Every setting is checked at start-up, and the store is
/// reached once (bucket or container exists, credentials accepted) before anything is served.
/// <list type="bullet">
/// <item><c>local</c>, <c>local:PATH</c> — a directory (<c>STORAGETYPE=local</c>, <c>KOALJA_LOCAL_PATH</c>);</item>
/// <item><c>s3://BUCKET/PREFIX?endpoint=URL&amp;region=R&amp;pathStyle=true</c> — S3 or an S3-compatible server
/// (<c>STORAGETYPE=s3</c>, <c>S3_BUCKET</c>, <c>S3_PREFIX</c>, <c>S3_ENDPOINT</c>, <c>S3_REGION</c>, <c>S3_FORCE_PATH_STYLE</c>);
/// credentials from <c>S3_ACCESS_KEY</c>/<c>S3_SECRET_KEY</c>, else the usual AWS sources (<c>AWS_ACCESS_KEY_ID</c>, profiles, roles);</item>
/// <item><c>azblob://CONTAINER/PREFIX</c> with <c>AZURE_STORAGE_CONNECTION_STRING</c>, or <c>https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX</c>
/// with the Azure identity of the process (<c>STORAGETYPE=azure</c>, <c>AZURE_STORAGE_CONTAINER</c>, <c>AZURE_STORAGE_PREFIX</c>,
/// <c>AZURE_STORAGE_CONNECTION_STRING</c> or <c>AZURE_STORAGE_ACCOUNT_URL</c>).</item>
/// </list>
/// </summary>
public static class StorageSettings
{
    public const string TypeVariable = "STORAGETYPE";

    /// <exception cref="StorageConfigurationException">A setting is wrong.</exception>
    /// <exception cref="StorageUnavailableException">The store cannot be reached as configured.</exception>
    public static async Task<IArtifactStore> OpenAsync(string? flag, Func<string, string?> environment, string defaultLocalPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;
        if (flag is { Length: > 0 })
        {
            return await FromUrlAsync(flag, Env, defaultLocalPath, cancellationToken);
        }

        switch (Env(TypeVariable)?.ToLowerInvariant())
        {
            case null or "local":
                return new LocalArtifactStore(Env("KOALJA_LOCAL_PATH") ?? defaultLocalPath);
            case "s3":
                var bucket = Env("S3_BUCKET") ?? throw new StorageConfigurationException("STORAGETYPE=s3 needs S3_BUCKET, the bucket that holds the values");
                var endpoint = Env("S3_ENDPOINT") is { } e ? ParseEndpoint(e, "S3_ENDPOINT") : null;
                return await CheckedAsync(new S3ArtifactStore(new S3StoreOptions
                {
                    Bucket = bucket,
                    Prefix = Env("S3_PREFIX") ?? "",
                    Endpoint = endpoint,
                    Region = Env("S3_REGION") ?? Env("AWS_REGION") ?? "us-east-1",
                    ForcePathStyle = ParseBool(Env("S3_FORCE_PATH_STYLE"), "S3_FORCE_PATH_STYLE") ?? endpoint is not null,
                    Credentials = Credentials(Env),
                }), cancellationToken);
            case "azure":
                var container = Env("AZURE_STORAGE_CONTAINER") ?? throw new StorageConfigurationException("STORAGETYPE=azure needs AZURE_STORAGE_CONTAINER, the container that holds the values");
                return await CheckedAsync(new BlobArtifactStore(AzureContainer(container, null, Env, "STORAGETYPE=azure"), Env("AZURE_STORAGE_PREFIX")), cancellationToken);
            case var other:
                throw new StorageConfigurationException($"STORAGETYPE '{other}' is not a storage type: use local, s3 or azure");
        }
    }

    private static async Task<IArtifactStore> FromUrlAsync(string url, Func<string, string?> env, string defaultLocalPath, CancellationToken cancellationToken)
    {
        if (url == "local")
        {
            return new LocalArtifactStore(defaultLocalPath);
        }

        if (url.StartsWith("local:", StringComparison.Ordinal))
        {
            return url.Length > "local:".Length ? new LocalArtifactStore(url["local:".Length..]) : throw new StorageConfigurationException("--storage local: names no directory; use local:PATH");
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new StorageConfigurationException($"--storage '{url}' is not a storage URL: use local:PATH, s3://BUCKET/PREFIX, azblob://CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER");
        }

        var query = Query(uri);
        switch (uri.Scheme)
        {
            case "s3":
                if (query.Keys.FirstOrDefault(k => k is not ("endpoint" or "region" or "pathStyle")) is { } unknown)
                {
                    throw new StorageConfigurationException($"--storage: unknown S3 setting '{unknown}'; s3:// takes endpoint, region and pathStyle");
                }

                var endpoint = query.TryGetValue("endpoint", out var e) ? ParseEndpoint(e, "--storage endpoint") : env("S3_ENDPOINT") is { } fromEnv ? ParseEndpoint(fromEnv, "S3_ENDPOINT") : null;
                return await CheckedAsync(new S3ArtifactStore(new S3StoreOptions
                {
                    Bucket = uri.Host.Length > 0 ? uri.Host : throw new StorageConfigurationException("--storage s3:// names no bucket: use s3://BUCKET/PREFIX"),
                    Prefix = Uri.UnescapeDataString(uri.AbsolutePath),
                    Endpoint = endpoint,
                    Region = query.GetValueOrDefault("region") ?? env("S3_REGION") ?? env("AWS_REGION") ?? "us-east-1",
                    ForcePathStyle = ParseBool(query.GetValueOrDefault("pathStyle"), "--storage pathStyle") ?? endpoint is not null,
                    Credentials = Credentials(env),
                }), cancellationToken);
            case "azblob":
                return await CheckedAsync(new BlobArtifactStore(AzureContainer(uri.Host, null, env, "--storage azblob://"), Uri.UnescapeDataString(uri.AbsolutePath)), cancellationToken);
            case "https" or "http" when uri.Host.Contains(".blob.", StringComparison.Ordinal) || uri.AbsolutePath.Length > 1:
                var segments = uri.AbsolutePath.Trim('/').Split('/', 2);
                if (segments[0].Length == 0)
                {
                    throw new StorageConfigurationException($"--storage {uri.GetLeftPart(UriPartial.Authority)} names no container: use {uri.GetLeftPart(UriPartial.Authority)}/CONTAINER/PREFIX");
                }

                var account = new Uri(uri.GetLeftPart(UriPartial.Authority));
                return await CheckedAsync(new BlobArtifactStore(AzureContainer(segments[0], account, env, "--storage"), segments.Length > 1 ? segments[1] : null), cancellationToken);
            default:
                throw new StorageConfigurationException($"--storage '{uri.Scheme}://' is not a storage: use local:PATH, s3://BUCKET/PREFIX, azblob://CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER");
        }
    }

    private static BlobContainerClient AzureContainer(string container, Uri? account, Func<string, string?> env, string origin)
    {
        if (account is null && env("AZURE_STORAGE_CONNECTION_STRING") is { } connectionString)
        {
            try
            {
                return new BlobContainerClient(connectionString, container);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new StorageConfigurationException($"AZURE_STORAGE_CONNECTION_STRING is not a valid connection string: {e.Message}");
            }
        }

        account ??= env("AZURE_STORAGE_ACCOUNT_URL") is { } accountUrl
            ? Uri.TryCreate(accountUrl, UriKind.Absolute, out var parsed) ? parsed : throw new StorageConfigurationException($"AZURE_STORAGE_ACCOUNT_URL '{accountUrl}' is not a URL such as https://ACCOUNT.blob.core.windows.net")
            : throw new StorageConfigurationException($"{origin} needs AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_URL with an Azure identity for the process");
        return new BlobContainerClient(new Uri(account, container), new DefaultAzureCredential());
    }

    private static BasicAWSCredentials? Credentials(Func<string, string?> env) => (env("S3_ACCESS_KEY"), env("S3_SECRET_KEY")) switch
    {
        ({ } key, { } secret) => new BasicAWSCredentials(key, secret),
        (null, null) => null, // the SDK's own chain: AWS_ACCESS_KEY_ID, profiles, instance roles
        _ => throw new StorageConfigurationException("S3_ACCESS_KEY and S3_SECRET_KEY go together: set both, or neither to use the usual AWS credentials"),
    };

    private static async Task<IArtifactStore> CheckedAsync<T>(T store, CancellationToken cancellationToken) where T : IArtifactStore
    {
        var check = store switch
        {
            S3ArtifactStore s3 => s3.CheckAsync(cancellationToken),
            BlobArtifactStore blob => blob.CheckAsync(cancellationToken),
            _ => Task.CompletedTask,
        };
        try
        {
            await check;
        }
        catch
        {
            (store as IDisposable)?.Dispose();
            throw;
        }

        return store;
    }

    private static Uri ParseEndpoint(string value, string setting) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new StorageConfigurationException($"{setting} '{value}' is not an http:// or https:// address of an S3 server");

    private static bool? ParseBool(string? value, string setting) => value?.ToLowerInvariant() switch
    {
        null => null,
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new StorageConfigurationException($"{setting} '{value}' is not true or false"),
    };

    private static Dictionary<string, string> Query(Uri uri) => uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "", StringComparer.Ordinal);
}
