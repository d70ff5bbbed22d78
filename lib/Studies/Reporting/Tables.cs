using System.Reflection;
using Microsoft.Data.Analysis;

namespace LabelAssignment.Reporting;

/// <summary>DataFrames from result records, for notebooks (a DataFrame shows as a paged HTML table).</summary>
public static class Tables
{
    /// <summary>
    /// One row per record, one column per public instance property of <typeparamref name="T"/> in declaration order:
    /// numbers as numeric columns (doubles rounded to <paramref name="decimals"/> places, NaN kept), bools as bool
    /// columns, everything else (strings, enums) as text. Properties that are arrays or collections are left out.
    /// </summary>
    /// <param name="records">The rows.</param>
    /// <param name="decimals">Decimal places of double columns (0 to 15).</param>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> has no property that can be a column.</exception>
    public static DataFrame FromRecords<T>(IEnumerable<T> records, int decimals = 3)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (decimals is < 0 or > 15)
            throw new ArgumentOutOfRangeException(nameof(decimals), decimals, "decimals must be in [0, 15].");
        var rows = records.ToArray();
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"
                        && (p.PropertyType == typeof(string) || !typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType)))
            .OrderBy(p => p.MetadataToken)
            .ToArray();
        if (properties.Length == 0)
            throw new ArgumentException($"{typeof(T).Name} has no public scalar property to make a column of.", nameof(records));
        var columns = new List<DataFrameColumn>();
        foreach (var p in properties)
        {
            var values = rows.Select(r => r is null ? null : p.GetValue(r)).ToArray();
            var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            if (type == typeof(double) || type == typeof(float))
                columns.Add(new PrimitiveDataFrameColumn<double>(p.Name, values.Select(v => v is null ? (double?)null
                    : Math.Round(Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture), decimals))));
            else if (type == typeof(int) || type == typeof(short) || type == typeof(byte))
                columns.Add(new PrimitiveDataFrameColumn<int>(p.Name, values.Select(v => v is null ? (int?)null : Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture))));
            else if (type == typeof(long))
                columns.Add(new PrimitiveDataFrameColumn<long>(p.Name, values.Select(v => (long?)v)));
            else if (type == typeof(bool))
                columns.Add(new PrimitiveDataFrameColumn<bool>(p.Name, values.Select(v => (bool?)v)));
            else
                columns.Add(new StringDataFrameColumn(p.Name, values.Select(v => v is IFormattable f
                    ? f.ToString(null, System.Globalization.CultureInfo.InvariantCulture) : v?.ToString())));
        }
        return new DataFrame(columns);
    }
}
