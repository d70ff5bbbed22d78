namespace LabelAssignment.Numerics;

/// <summary>How two embeddings are compared.</summary>
public enum DistanceMetric
{
    /// <summary>1 - cos(a, b), in [0, 2]; zero vectors have no direction and are rejected.</summary>
    Cosine,

    /// <summary>||a - b||₂.</summary>
    Euclidean,
}
