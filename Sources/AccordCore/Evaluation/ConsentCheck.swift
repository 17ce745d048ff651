import Foundation

/// The subject's consent grants, checked against the scopes' versions and expiry at one instant.
struct ConsentCheck {
    enum Status {
        case valid(scope: Int, byGuardian: Bool)
        case expired(Int)
        case outdated(Int)
        case missing
    }

    /// Per scope index: the best grant's state, 4 bits each for the first 16 scopes and in `overflow`
    /// beyond. 0 none, 1 outdated, 2 expired, 3 valid, 4 valid by guardian.
    private var packed: UInt64 = 0
    private var overflow: [UInt8] = []

    init(plan: DecisionPlan, request: __shared DecisionRequest, now: Int64) {
        guard !request.consent.grants.isEmpty else { return }
        if plan.scopes.count > 16 { overflow = [UInt8](repeating: 0, count: plan.scopes.count - 16) }
        for grant in request.consent.grants {
            guard let s = plan.scopeIndex[grant.scope] else { continue }
            let scope = plan.scopes[s]
            let at = Int64(grant.grantedAt.timeIntervalSince1970.rounded(.down))
            var state: UInt8
            if grant.version < scope.minimumVersion {
                state = 1
            } else if at > now {
                state = 0  // not yet given at this instant
            } else if let expiry = scope.expiresAfter, now >= at + expiry {
                state = 2
            } else {
                state = grant.byGuardian ? 4 : 3
            }
            if state > self.state(of: s) { set(s, state) }
        }
    }

    private mutating func set(_ scope: Int, _ state: UInt8) {
        if scope < 16 {
            let shift = UInt64(scope * 4)
            packed = (packed & ~(0xF << shift)) | (UInt64(state) << shift)
        } else {
            overflow[scope - 16] = state
        }
    }

    /// 0 none, 1 outdated, 2 expired, 3 valid, 4 valid by guardian.
    func state(of scope: Int) -> UInt8 {
        if scope < 16 { return UInt8((packed >> UInt64(scope * 4)) & 0xF) }
        return scope - 16 < overflow.count ? overflow[scope - 16] : 0  // no grants at all: nothing allocated
    }

    func status(among scopes: [Int]) -> Status {
        var best: (Int, UInt8)?
        for s in scopes where state(of: s) > (best?.1 ?? 0) { best = (s, state(of: s)) }
        guard let (scope, state) = best else { return .missing }
        switch state {
        case 4: return .valid(scope: scope, byGuardian: true)
        case 3: return .valid(scope: scope, byGuardian: false)
        case 2: return .expired(scope)
        default: return .outdated(scope)
        }
    }
}
