using LabelAssignment.Embedding.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LabelAssignment.Service;

/// <summary>
/// The embedding service on Kestrel: the routes of <see cref="EmbeddingEndpoints"/>, a model, its batcher and metrics.
/// <see cref="Create"/> reads the options from the command line and environment (server/Program.cs);
/// <see cref="StartAsync(EmbeddingServiceOptions, string, IEmbeddingModel?, CancellationToken)"/> starts one
/// in-process (tests, notebooks). Stopping lets in-flight requests finish (up to
/// <see cref="EmbeddingServiceOptions.ShutdownTimeoutSeconds"/>) before the batcher and the model are released.
/// </summary>
public sealed class EmbeddingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly EmbeddingBatcher _batcher;
    private readonly IEmbeddingModel _model;
    private int _disposed;

    private EmbeddingServer(WebApplication app, EmbeddingBatcher batcher, IEmbeddingModel model, EmbeddingServiceOptions options, ServiceMetrics metrics)
    {
        _app = app;
        _batcher = batcher;
        _model = model;
        Options = options;
        Metrics = metrics;
    }

    /// <summary>The options in use.</summary>
    public EmbeddingServiceOptions Options { get; }

    /// <summary>The metrics /metrics serves.</summary>
    public ServiceMetrics Metrics { get; }

    /// <summary>The model served.</summary>
    public IEmbeddingModel Model => _model;

    /// <summary>The first address the server listens on (the real port when started on port 0); null before start.</summary>
    public Uri? BaseAddress
    {
        get
        {
            var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            string? first = addresses?.FirstOrDefault();
            if (first is null) return null;
            // A wildcard address is reachable on loopback.
            first = first.Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal).Replace("://[::]:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal).Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal);
            return new Uri(first.EndsWith('/') ? first : first + "/");
        }
    }

    /// <summary>
    /// The server of a program: options from the configuration section <see cref="EmbeddingServiceOptions.Section"/>
    /// (command line, environment, appsettings.json), addresses from <c>--urls</c> / ASPNETCORE_URLS, by default
    /// http://0.0.0.0:8210 (the article's port). Loads the model (ResNet18 by default, no download).
    /// </summary>
    public static EmbeddingServer Create(string[] args, IEmbeddingModel? model = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args });
        var options = (builder.Configuration.GetSection(EmbeddingServiceOptions.Section).Get<EmbeddingServiceOptions>() ?? new EmbeddingServiceOptions()).Validate();
        bool addressGiven = !string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey])
            || !string.IsNullOrEmpty(builder.Configuration["http_ports"]) || !string.IsNullOrEmpty(builder.Configuration["https_ports"]);
        if (!addressGiven) builder.WebHost.UseUrls($"http://0.0.0.0:{EmbeddingProtocol.DefaultPort}");
        return Build(builder, options, model);
    }

    /// <summary>Starts a server in this process on <paramref name="url"/> (default: loopback, a free port) without logging.</summary>
    public static async Task<EmbeddingServer> StartAsync(EmbeddingServiceOptions options, string url = "http://127.0.0.1:0",
        IEmbeddingModel? model = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var server = Build(builder, options, model);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return server;
    }

    private static EmbeddingServer Build(WebApplicationBuilder builder, EmbeddingServiceOptions options, IEmbeddingModel? model)
    {
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            k.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds));
        if (model is null)
        {
            model = new OnnxEmbeddingModel(options.CreateEmbedder());
            // Loading edits the model graph in managed memory (hundreds of MB for ResNet18); give it back before serving.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        var metrics = new ServiceMetrics();
        var batcher = new EmbeddingBatcher(model, options, metrics);
        var app = builder.Build();
        new EmbeddingEndpoints(model, batcher, options, metrics).Map(app);
        return new EmbeddingServer(app, batcher, model, options, metrics);
    }

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    /// <summary>Serves until the process is told to stop (Ctrl+C, SIGTERM) or <paramref name="cancellationToken"/> is cancelled; then shuts down gracefully.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"embedding service: model {_model.Name} ({_model.Dimension}-d) listening on {string.Join(", ", _app.Urls)}");
        await _app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops taking connections and lets in-flight requests finish (the batcher keeps running until they have).</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Stops the server (gracefully), then the batcher, then releases the model.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _batcher.DisposeAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _model.Dispose();
        }
    }
}
