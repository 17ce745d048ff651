import Foundation

/// A small click-through model for the examples: logistic regression on a few numeric features, trained by
/// gradient descent with L2 regularisation on standardised inputs, and its quality as ROC AUC. Enough to see
/// personalisation work on a guarded training set, and what the guard's exclusions cost in quality.
public struct ClickModel: Sendable {
    public private(set) var weights: [Double]
    public private(set) var bias = 0.0
    private var means: [Double]
    private var scales: [Double]

    /// Trains on `examples` (feature vectors) and `labels` (clicked or not).
    public init(examples: [[Double]], labels: [Bool], epochs: Int = 300, learningRate: Double = 0.5, l2: Double = 0.001) {
        let width = examples.first?.count ?? 0
        means = (0..<width).map { j in examples.map { $0[j] }.reduce(0, +) / Double(max(examples.count, 1)) }
        let m = means
        scales = (0..<width).map { j in
            let variance = examples.map { ($0[j] - m[j]) * ($0[j] - m[j]) }.reduce(0, +) / Double(max(examples.count, 1))
            return variance > 0 ? variance.squareRoot() : 1
        }
        weights = Array(repeating: 0, count: width)
        let inputs = examples.map(standardised)
        let n = Double(max(examples.count, 1))
        for _ in 0..<epochs {
            var gradient = Array(repeating: 0.0, count: width), gradientBias = 0.0
            for (x, label) in zip(inputs, labels) {
                let error = Self.sigmoid(zip(weights, x).map(*).reduce(bias, +)) - (label ? 1 : 0)
                for j in 0..<width { gradient[j] += error * x[j] }
                gradientBias += error
            }
            for j in 0..<width { weights[j] -= learningRate * (gradient[j] / n + l2 * weights[j]) }
            bias -= learningRate * gradientBias / n
        }
    }

    /// The predicted probability of a click.
    public func probability(_ example: [Double]) -> Double {
        Self.sigmoid(zip(weights, standardised(example)).map(*).reduce(bias, +))
    }

    private func standardised(_ x: [Double]) -> [Double] { (0..<x.count).map { (x[$0] - means[$0]) / scales[$0] } }

    static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    /// ROC AUC: the chance that a random positive scores above a random negative (ties count half).
    public static func auc(scores: [Double], labels: [Bool]) -> Double {
        let ranked = zip(scores, labels).sorted { $0.0 < $1.0 }
        var rankSum = 0.0, index = 0
        while index < ranked.count {
            var end = index
            while end + 1 < ranked.count && ranked[end + 1].0 == ranked[index].0 { end += 1 }
            let averageRank = Double(index + end + 2) / 2  // ranks are 1-based
            for k in index...end where ranked[k].1 { rankSum += averageRank }
            index = end + 1
        }
        let positives = Double(labels.filter { $0 }.count), negatives = Double(labels.count) - positives
        guard positives > 0, negatives > 0 else { return 0.5 }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }
}
