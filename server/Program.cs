using LabelAssignment.Service;

// The embedding service: `dotnet run --project server -c Release [-- --urls http://127.0.0.1:8210 --Embedding:Model=resnet18-128]`.
// Options and limits: lib/Service/EmbeddingServiceOptions.cs (README.md, "The embedding service").
try
{
    await using var server = EmbeddingServer.Create(args);
    await server.RunAsync();
    return 0;
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or IOException)
{
    Console.Error.WriteLine($"embedding service: {e.Message}");
    return 2;
}
