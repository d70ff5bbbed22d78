using Google.Protobuf;
using Onnx;

namespace LabelAssignment.Tests.Embedding;

/// <summary>
/// Small ONNX models built in C# with OnnxSharp's protobuf types: stand-ins with BLIP-2's vision tower's input and
/// output names and shapes. pooler_output = GlobalAveragePool(pixel_values) flattened to [N, 3], times W [3, dim],
/// plus B [dim]: a known linear function of each channel's mean, so a test can compute the expected embedding.
/// </summary>
internal static class FakeOnnxModels
{
    public static float W(int c, int j) => (float)Math.Sin(0.37 * (j + 1) + 1.3 * c);

    public static float B(int j) => 0.01f * (j % 7) - 0.03f;

    public static void WriteBlip2Like(string path, int dim = 1408, int inputSize = 224, string inputName = "pixel_values",
        string outputName = "pooler_output", int channels = 3)
    {
        var graph = new GraphProto { Name = "fake_blip2_vision" };
        graph.Input.Add(Tensor(inputName, [Dyn("batch_size"), Fixed(channels), Fixed(inputSize), Fixed(inputSize)]));
        graph.Output.Add(Tensor(outputName, [Dyn("batch_size"), Fixed(dim)]));
        var w = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float };
        w.Dims.AddRange([channels, dim]);
        for (int c = 0; c < channels; c++)
            for (int j = 0; j < dim; j++)
                w.FloatData.Add(W(c, j));
        var b = new TensorProto { Name = "B", DataType = (int)TensorProto.Types.DataType.Float };
        b.Dims.Add(dim);
        for (int j = 0; j < dim; j++) b.FloatData.Add(B(j));
        graph.Initializer.Add(w);
        graph.Initializer.Add(b);
        graph.Node.Add(Node("GlobalAveragePool", [inputName], ["pooled"]));
        var flatten = Node("Flatten", ["pooled"], ["flat"]);
        flatten.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(flatten);
        graph.Node.Add(Node("MatMul", ["flat", "W"], ["projected"]));
        graph.Node.Add(Node("Add", ["projected", "B"], [outputName]));
        var model = new ModelProto { IrVersion = 7, ProducerName = "LabelAssignment.Tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        File.WriteAllBytes(path, model.ToByteArray());
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var n = new NodeProto { OpType = op, Name = op + "_" + outputs[0] };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    private static TensorShapeProto.Types.Dimension Dyn(string name) => new() { DimParam = name };

    private static TensorShapeProto.Types.Dimension Fixed(long value) => new() { DimValue = value };

    private static ValueInfoProto Tensor(string name, TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
