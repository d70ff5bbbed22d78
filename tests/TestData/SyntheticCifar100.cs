using LabelAssignment.Data;

namespace LabelAssignment.Tests.TestData;

/// <summary>
/// A small CIFAR-100 test split in the official binary format (<c>test.bin</c>: per image one coarse-label byte, one
/// fine-label byte, then 1024 red, 1024 green, 1024 blue bytes, row-major; plus <c>fine_label_names.txt</c> and
/// <c>coarse_label_names.txt</c>), written by the tests when the real split (../shared/cifar-100) is absent.
/// Twenty classes with the official names and fine-to-coarse mapping; each class is a colour and a stripe
/// pattern with per-image noise, so images of one class embed close together and the notebooks find clusters.
/// </summary>
internal static class SyntheticCifar100
{
    /// <summary>Images in the file: the official test count, which the readers check (the notebook tests use the first 500).</summary>
    public const int Count = Cifar100.TestCount;

    /// <summary>The official fine label names (from the CIFAR-100 archive's <c>fine_label_names.txt</c>).</summary>
    public static readonly string[] FineNames = "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm".Split(' ');

    /// <summary>The official coarse label names.</summary>
    public static readonly string[] CoarseNames = "aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices household_furniture insects large_carnivores large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1 vehicles_2".Split(' ');

    /// <summary>The official superclass of each fine class.</summary>
    public static readonly int[] CoarseOfFine =
        [4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11, 6, 11, 5, 10, 7, 6, 13, 15, 3, 15, 0, 11, 1, 10, 12,
         14, 16, 9, 11, 5, 5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18, 17, 10, 3, 2, 12, 12, 16, 12, 1,
         9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13, 16, 19, 2, 4, 6, 19, 5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13];

    /// <summary>The twenty fine classes used, in turn: image i has fine label <c>Classes[i % 20]</c>.</summary>
    public static readonly int[] Classes = [49, 33, 72, 51, 71, 92, 15, 14, 23, 0, 75, 81, 69, 40, 43, 97, 70, 53, 29, 21];

    private static readonly Lazy<string> Written = new(Write, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The folder holding the file (written once per process under the system temp folder, removed at exit).</summary>
    public static string Folder => Written.Value;

    private static string Write()
    {
        string folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"la-tests-cifar100-synthetic-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        File.WriteAllLines(System.IO.Path.Combine(folder, "fine_label_names.txt"), FineNames);
        File.WriteAllLines(System.IO.Path.Combine(folder, "coarse_label_names.txt"), CoarseNames);
        var bytes = new byte[Count * Cifar100.RecordBytes];
        const int side = Cifar100.ImageSize, plane = side * side;
        for (int i = 0; i < Count; i++)
        {
            int c = i % Classes.Length, at = i * Cifar100.RecordBytes;
            bytes[at] = (byte)CoarseOfFine[Classes[c]];
            bytes[at + 1] = (byte)Classes[c];
            var rng = new Random(1000 + i);
            double angle = Math.PI * c / Classes.Length, frequency = 0.2 + 0.05 * (c % 5);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    double stripe = Math.Sin(frequency * (x * Math.Cos(angle) + y * Math.Sin(angle)));
                    for (int ch = 0; ch < 3; ch++)
                    {
                        double basis = 40 + 170 * (((c * 7 + ch * 3) % 11) / 10.0);
                        double v = basis + 60 * stripe * (ch == c % 3 ? 1 : -0.5) + 20 * (rng.NextDouble() - 0.5);
                        bytes[at + 2 + ch * plane + y * side + x] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                    }
                }
        }
        File.WriteAllBytes(System.IO.Path.Combine(folder, "test.bin"), bytes);
        return folder;
    }
}
