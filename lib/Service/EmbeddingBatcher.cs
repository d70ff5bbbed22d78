using System.Diagnostics;
using System.Threading.Channels;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Service;

/// <summary>
/// Batching across requests: requests put their decoded images into one bounded queue, and a single loop runs the
/// model on up to <see cref="EmbeddingServiceOptions.MaxBatchSize"/> images at once, taken from as many requests as are
/// waiting (waiting up to <see cref="EmbeddingServiceOptions.MaxBatchWaitMilliseconds"/> for a call to fill). Room is
/// reserved in images before a request decodes anything (<see cref="TryReserve"/>), so the queue never holds more than
/// <see cref="EmbeddingServiceOptions.MaxQueuedImages"/> images and a full queue is refused, not buffered.
/// </summary>
public sealed class EmbeddingBatcher : IAsyncDisposable
{
    private sealed class Job(Image<Rgb24>[] images, int dimension, CancellationToken cancellation)
    {
        public readonly Image<Rgb24>[] Images = images;
        public readonly float[] Rows = new float[(long)images.Length * dimension];
        public readonly CancellationToken Cancellation = cancellation;
        public readonly TaskCompletionSource<float[]> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly long Enqueued = Stopwatch.GetTimestamp();
        public int Next;       // next image to put into a model call
        public int Remaining = images.Length; // images not yet embedded
        public bool Failed;
    }

    private readonly IEmbeddingModel _model;
    private readonly EmbeddingServiceOptions _options;
    private readonly ServiceMetrics _metrics;
    private readonly Channel<Job> _queue;
    private readonly Task _loop;
    private int _reserved;

    /// <summary>Starts the batch loop over <paramref name="model"/>.</summary>
    public EmbeddingBatcher(IEmbeddingModel model, EmbeddingServiceOptions options, ServiceMetrics metrics)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        // Every job holds at least one reserved image, so the reservation bounds the channel before its capacity does.
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(options.MaxQueuedImages) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Images reserved or queued and not yet embedded.</summary>
    public int QueuedImages => Volatile.Read(ref _reserved);

    /// <summary>Reserves room for <paramref name="count"/> images; false when the queue cannot take them now (answer 429).</summary>
    public bool TryReserve(int count)
    {
        if (Interlocked.Add(ref _reserved, count) > _options.MaxQueuedImages)
        {
            Release(count);
            return false;
        }
        _metrics.QueueDepth.Set(QueuedImages);
        return true;
    }

    /// <summary>Gives back reserved room (images refused, or embedded).</summary>
    public void Release(int count)
    {
        Interlocked.Add(ref _reserved, -count);
        _metrics.QueueDepth.Set(QueuedImages);
    }

    /// <summary>
    /// Embeds images whose room was reserved; takes ownership of them (disposed once embedded) and of the reservation.
    /// Returns count x dimension raw floats in order. Cancelled requests leave the queue at their next turn.
    /// </summary>
    public Task<float[]> EmbedAsync(Image<Rgb24>[] images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        var job = new Job(images, _model.Dimension, cancellationToken);
        if (!_queue.Writer.TryWrite(job))
            Drop(job, new InvalidOperationException("the embedding service is shutting down."));
        // A request that times out stops waiting even when its images are already in a model call.
        return job.Done.Task.WaitAsync(cancellationToken);
    }

    private void Drop(Job job, Exception reason)
    {
        int left = job.Images.Length - job.Next;
        for (int i = job.Next; i < job.Images.Length; i++) job.Images[i].Dispose();
        job.Next = job.Images.Length;
        Release(left);
        job.Failed = true;
        if (reason is OperationCanceledException oce) job.Done.TrySetCanceled(oce.CancellationToken);
        else job.Done.TrySetException(reason);
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        var parts = new List<(Job Job, int Start, int Count)>();
        var images = new List<Image<Rgb24>>(_options.MaxBatchSize);
        Job? carry = null; // a job with images left after the last call
        var wait = TimeSpan.FromMilliseconds(_options.MaxBatchWaitMilliseconds);
        while (carry is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            parts.Clear();
            images.Clear();
            long deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
            while (images.Count < _options.MaxBatchSize)
            {
                Job? job = carry;
                carry = null;
                if (job is null && !reader.TryRead(out job))
                {
                    TimeSpan left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                    if (images.Count == 0 || left <= TimeSpan.Zero || !await WaitForMoreAsync(reader, left).ConfigureAwait(false))
                        break;
                    continue;
                }
                if (job.Failed) continue; // its model call failed while part of it waited
                if (job.Cancellation.IsCancellationRequested)
                {
                    Drop(job, new OperationCanceledException(job.Cancellation));
                    continue;
                }
                if (job.Next == 0) _metrics.QueueWaitSeconds.Observe(Stopwatch.GetElapsedTime(job.Enqueued).TotalSeconds);
                int take = Math.Min(_options.MaxBatchSize - images.Count, job.Images.Length - job.Next);
                parts.Add((job, job.Next, take));
                for (int i = 0; i < take; i++) images.Add(job.Images[job.Next + i]);
                job.Next += take;
                if (job.Next < job.Images.Length) carry = job;
            }
            if (images.Count > 0) RunBatch(parts, images);
        }
    }

    private static async Task<bool> WaitForMoreAsync(ChannelReader<Job> reader, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await reader.WaitToReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return false;
        }
    }

    private void RunBatch(List<(Job Job, int Start, int Count)> parts, List<Image<Rgb24>> images)
    {
        int dim = _model.Dimension;
        var clock = Stopwatch.StartNew();
        try
        {
            var matrix = _model.Embed(images);
            if (matrix.Count != images.Count || matrix.Dimension != dim)
                throw new InvalidDataException($"model {_model.Name} returned {matrix.Count} x {matrix.Dimension} for {images.Count} images; {images.Count} x {dim} expected.");
            _metrics.BatchSeconds.Observe(clock.Elapsed.TotalSeconds);
            _metrics.BatchSize.Observe(images.Count);
            _metrics.ImagesEmbedded.Inc(images.Count);
            int row = 0;
            foreach (var (job, start, count) in parts)
            {
                matrix.Data.AsSpan(row * dim, count * dim).CopyTo(job.Rows.AsSpan(start * dim, count * dim));
                row += count;
                job.Remaining -= count;
                if (job.Remaining == 0) job.Done.TrySetResult(job.Rows);
            }
        }
        catch (Exception e)
        {
            // A failed call fails the requests it served (500); the loop and every other request go on.
            foreach (var (job, _, _) in parts)
                if (!job.Failed) Drop(job, new ModelFailedException($"model {_model.Name} failed on a batch of {images.Count} image(s): {e.Message}", e));
        }
        finally
        {
            foreach (var image in images) image.Dispose();
            Release(images.Count);
        }
    }

    /// <summary>Stops taking requests, embeds what is queued, and waits for the loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}

/// <summary>The model threw while embedding a batch (the service answers 500 for the requests in it).</summary>
public sealed class ModelFailedException(string message, Exception inner) : Exception(message, inner);
