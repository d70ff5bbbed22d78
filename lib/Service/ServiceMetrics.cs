using Prometheus;

namespace LabelAssignment.Service;

/// <summary>
/// The service's Prometheus metrics, in a registry of its own (two servers in one process, as in the tests, count
/// apart). Served at /metrics in the text format by prometheus-net.
/// </summary>
public sealed class ServiceMetrics
{
    /// <summary>Creates the metrics in a new registry.</summary>
    public ServiceMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("embedding_http_requests_total", "HTTP requests answered, by route and status code.",
            new CounterConfiguration { LabelNames = ["route", "status"] });
        RequestSeconds = factory.CreateHistogram("embedding_http_request_duration_seconds", "Time from request to answer, by route.",
            new HistogramConfiguration { LabelNames = ["route"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) });
        ImagesEmbedded = factory.CreateCounter("embedding_images_embedded_total", "Images embedded by the model.");
        ImagesRejected = factory.CreateCounter("embedding_images_rejected_total", "Images refused (bad base64, not an image, over a limit).");
        QueueDepth = factory.CreateGauge("embedding_queue_images", "Images accepted and waiting for (or in) a model call.");
        BatchSize = factory.CreateHistogram("embedding_batch_size", "Images per model call.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 13) });
        BatchSeconds = factory.CreateHistogram("embedding_batch_duration_seconds", "Time of one model call.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) });
        QueueWaitSeconds = factory.CreateHistogram("embedding_queue_wait_seconds", "Time a request's images waited before their first model call.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 18) });
    }

    /// <summary>The registry /metrics serves.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Requests by route and status.</summary>
    public Counter Requests { get; }

    /// <summary>Request latency by route.</summary>
    public Histogram RequestSeconds { get; }

    /// <summary>Images embedded.</summary>
    public Counter ImagesEmbedded { get; }

    /// <summary>Images refused.</summary>
    public Counter ImagesRejected { get; }

    /// <summary>Images queued.</summary>
    public Gauge QueueDepth { get; }

    /// <summary>Images per model call.</summary>
    public Histogram BatchSize { get; }

    /// <summary>Model call latency.</summary>
    public Histogram BatchSeconds { get; }

    /// <summary>Queue wait.</summary>
    public Histogram QueueWaitSeconds { get; }

    /// <summary>The route label of a path: the service's routes by name, everything else "other" (bounded cardinality).</summary>
    public static string RouteOf(string? path) => path?.TrimEnd('/') switch
    {
        "/embeddings" => "/embeddings/",
        "/health" => "/health",
        "/metrics" => "/metrics",
        _ => "other",
    };
}
