import Testing
@testable import PatchCore

extension PolicyTests {
    /// Every rejected policy must say where (file, line, column of the offending node) and what
    /// was expected.
    @Suite("Policy validation")
    struct Validation {
        // MARK: The file itself

        @Test func emptyFile() {
            expectPolicyError("", line: 1, column: 1, "the policy is empty", "'name' and 'targets'")
            expectPolicyError("# only a comment\n", line: 1, column: 1, "the policy is empty")
        }

        @Test func yamlSyntaxErrorCarriesYamsPosition() {
            expectPolicyError("name: n\ntargets: [web, db\n", line: 3, column: 1, "invalid YAML")
            expectPolicyError("name: n\n\ttargets: all\n", line: 2, column: 1, "invalid YAML", "spaces, not tabs")
        }

        @Test func severalDocuments() {
            expectPolicyError("name: a\ntargets: all\n---\nname: b\n", line: 3, column: 1, "single YAML document")
        }

        @Test func duplicateKeyPointsAtTheSecondOne() {
            expectPolicyError("name: a\ntargets: all\nname: b\n", line: 3, column: 1,
                              "duplicate key 'name'", "already at line 1, column 1")
        }

        @Test func topLevelMustBeAMap() {
            expectPolicyError("- name: a\n", line: 1, column: 1, "a policy must be a map", "found a list")
            expectPolicyError("just words\n", line: 1, column: 1, "a policy must be a map", "found the string 'just words'")
        }

        @Test func vaultValuesAreRefused() {
            expectPolicyError("""
                name: n
                targets: all
                pre:
                  - !vault |
                    $ANSIBLE_VAULT;1.1;AES256
                    6162
                """, line: 4, column: 5, "'!vault'", "cannot decrypt")
        }

        // MARK: Keys

        @Test func missingName() {
            expectPolicyError("# ops\ntargets: all\n", line: 2, column: 1, "missing required key 'name' in the policy")
        }

        @Test func missingTargets() {
            expectPolicyError("name: n\nselect: all\n", line: 1, column: 1, "missing required key 'targets'", "host pattern")
        }

        @Test func unknownKeyGetsASuggestion() {
            expectPolicyError("name: n\ntargets: all\nselct: all\n", line: 3, column: 1,
                              "unknown key 'selct' in the policy (did you mean 'select'?)")
            expectPolicyError("name: n\ntargets: all\ninstall_timout: 1h\n", line: 3, column: 1, "did you mean 'install_timeout'?")
        }

        @Test func unknownKeyWithoutNearMatchListsValidKeys() {
            expectPolicyError("name: n\ntargets: all\ncolour: red\n", line: 3, column: 1,
                              "unknown key 'colour' in the policy: valid keys are name, targets, select")
        }

        @Test func unknownNestedKeys() {
            expectPolicyError("name: n\ntargets: all\nselect: {updates: all, min_severty: high}\n", line: 3, column: 24,
                              "unknown key 'min_severty' in 'select' (did you mean 'min_severity'?)")
            expectPolicyError("""
                name: n
                targets: all
                rings:
                  - name: a
                    max_paralel: 2
                """, line: 5, column: 5, "unknown key 'max_paralel' in ring 1 (did you mean 'max_parallel'?)")
            expectPolicyError("name: n\ntargets: all\nwindow: {days: daily, start: '01:00', end: '02:00', tz: UTC}\n",
                              line: 3, column: 53, "unknown key 'tz' in 'window'")
        }

        // MARK: Name and targets

        @Test func nameMustBePlain() {
            expectPolicyError("name: my policy\ntargets: all\n", line: 1, column: 7,
                              "invalid policy name 'my policy'", "letters, digits")
            expectPolicyError("name: [a]\ntargets: all\n", line: 1, column: 7, "'name' must be a string, found a list")
            expectPolicyError("name:\ntargets: all\n", line: 1, column: 6, "'name' must not be empty")
            expectPolicyError("name: yes\ntargets: all\n", line: 1, column: 7, "found the boolean yes", "quote it")
        }

        @Test func emptyTargets() {
            expectPolicyError("name: n\ntargets: ''\n", line: 2, column: 10, "'targets' must not be empty")
            expectPolicyError("name: n\ntargets: []\n", line: 2, column: 10, "'targets' must not be empty")
            expectPolicyError("name: n\ntargets:\n", line: 2, column: 9, "'targets' must not be empty")
            expectPolicyError("name: n\ntargets: [web, '']\n", line: 2, column: 16, "'targets' must not be empty")
        }

        @Test func targetsWrongType() {
            expectPolicyError("name: n\ntargets: {web: 1}\n", line: 2, column: 10,
                              "'targets' must be a host pattern or a list of patterns, found a map")
        }

        @Test func invalidHostPattern() {
            expectPolicyError("name: n\ntargets: 'web[1-3]'\n", line: 2, column: 10,
                              "invalid host pattern 'web[1-3]' in 'targets'", "web[1:3]")
            expectPolicyError("name: n\ntargets: [web, '!']\n", line: 2, column: 16, "invalid host pattern '!'", "must be followed by")
        }

        @Test func targetsThatCannotBeJoined() {
            // With a comma a regex term keeps its ':'s, so joining would swallow 'mail' into it.
            expectPolicyError("name: n\ntargets: ['web,~db(?:1)', mail]\n", line: 2, column: 10, "cannot be joined")
        }

        // MARK: Select

        @Test func unknownSelectValue() {
            expectPolicyError("name: n\ntargets: all\nselect: everything\n", line: 3, column: 9,
                              "unknown select 'everything': expected security or all, or a map with updates, min_severity")
            expectPolicyError("name: n\ntargets: all\nselect: securty\n", line: 3, column: 9, "did you mean 'security'?")
            expectPolicyError("name: n\ntargets: all\nselect: [security]\n", line: 3, column: 9,
                              "'select' must be security, all, or a map", "found a list")
            expectPolicyError("name: n\ntargets: all\nselect: {updates: some}\n", line: 3, column: 19,
                              "unknown updates 'some': expected security or all")
        }

        @Test func unknownMinSeverity() {
            expectPolicyError("name: n\ntargets: all\nselect: {min_severity: urgent}\n", line: 3, column: 24,
                              "unknown min_severity 'urgent'", "none, low, medium (or moderate), high (or important) or critical")
            expectPolicyError("name: n\ntargets: all\nselect: {min_severity: critcal}\n", line: 3, column: 24,
                              "did you mean 'critical'?")
        }

        @Test func badGlobs() {
            expectPolicyError("name: n\ntargets: all\nselect: {include: ['openssl[']}\n", line: 3, column: 20,
                              "invalid package glob 'openssl[' in 'include'", "never closed")
            expectPolicyError("name: n\ntargets: all\nselect: {exclude: 'linux image*'}\n", line: 3, column: 19,
                              "invalid package glob 'linux image*' in 'exclude'", "spaces")
            expectPolicyError("name: n\ntargets: all\nselect: {hold: ['']}\n", line: 3, column: 17,
                              "invalid package glob '' in 'hold'", "empty")
            expectPolicyError("name: n\ntargets: all\nselect: {hold: {a: 1}}\n", line: 3, column: 16,
                              "'hold' must be a list of strings, found a map")
        }

        // MARK: Approval and reboot

        @Test func unknownApproval() {
            expectPolicyError("name: n\ntargets: all\napproval: manul\n", line: 3, column: 11,
                              "unknown approval 'manul' (did you mean 'manual'?): expected auto, manual or after_test")
            expectPolicyError("name: n\ntargets: all\napproval: true\n", line: 3, column: 11,
                              "'approval' must be auto, manual or after_test, found the boolean true")
        }

        @Test func afterTestNeedsATestRingBefore() {
            expectPolicyError("name: n\ntargets: all\napproval: after_test\n", line: 3, column: 11,
                              "approval 'after_test' needs a test ring before the others", "at least two rings")
            expectPolicyError("name: n\ntargets: all\nrings: [{name: only}]\napproval: after_test\n", line: 4, column: 11,
                              "needs a test ring")
        }

        @Test func unknownReboot() {
            expectPolicyError("name: n\ntargets: all\nreboot: sometimes\n", line: 3, column: 9,
                              "unknown reboot mode 'sometimes': expected never, if_required or always, or a map with mode")
            // YAML 1.1 reads `no` as a boolean.
            expectPolicyError("name: n\ntargets: all\nreboot: no\n", line: 3, column: 9,
                              "'reboot' must be never, if_required or always", "found the boolean no")
            expectPolicyError("name: n\ntargets: all\nreboot: {mode: later}\n", line: 3, column: 16, "unknown reboot mode 'later'")
        }

        @Test func rebootMapNeedsMode() {
            expectPolicyError("name: n\ntargets: all\nreboot: {grace_minutes: 3}\n", line: 3, column: 9, "'reboot' needs 'mode'")
        }

        @Test func negativeGraceMinutes() {
            expectPolicyError("name: n\ntargets: all\nreboot: {mode: always, grace_minutes: -1}\n", line: 3, column: 39,
                              "'grace_minutes' must be a whole number from 0 to 1440, found the number -1")
            expectPolicyError("name: n\ntargets: all\nreboot: {mode: always, grace_minutes: ten}\n", line: 3, column: 39,
                              "'grace_minutes' must be a whole number from 0 to 1440, found the string 'ten'")
        }

        // MARK: Deferment

        @Test func negativeMaxDeferrals() {
            expectPolicyError("name: n\ntargets: all\ndeferment: {max_deferrals: -1}\n", line: 3, column: 28,
                              "'max_deferrals' must be a whole number from 0 to 100, found the number -1")
        }

        @Test func invalidDeadline() {
            expectPolicyError("name: n\ntargets: all\ndeferment: {deadline: tomorrow}\n", line: 3, column: 23,
                              "invalid deadline", "48h", "2026-12-01T18:00")
            expectPolicyError("name: n\ntargets: all\ndeferment: {deadline: 2026-02-30}\n", line: 3, column: 23, "invalid deadline")
            expectPolicyError("name: n\ntargets: all\ndeferment: {deadline: 0s}\n", line: 3, column: 23, "'deadline' must be from 1s to 365d, found '0s'")
            expectPolicyError("name: n\ntargets: all\ndeferment: 3\n", line: 3, column: 12, "'deferment' must be a map")
        }

        // MARK: Window

        @Test func windowWithBothDaysAndPatchTuesday() {
            expectPolicyError("""
                name: n
                targets: all
                window:
                  days: [sat]
                  start: "02:00"
                  end: "05:00"
                  patch_tuesday: {weekday: sat}
                """, line: 7, column: 3, "'window' takes either 'days' or 'patch_tuesday', not both")
        }

        @Test func windowWithNeither() {
            expectPolicyError("""
                name: n
                targets: all
                window:
                  start: "02:00"
                  end: "05:00"
                """, line: 4, column: 3, "'window' needs 'days'", "or 'patch_tuesday'")
        }

        @Test func windowNeedsStartAndEnd() {
            expectPolicyError("name: n\ntargets: all\nwindow: {days: [sat], end: '05:00'}\n", line: 3, column: 9,
                              "missing required key 'start' in 'window'")
        }

        @Test func badTimes() {
            expectPolicyError("name: n\ntargets: all\nwindow: {days: [sat], start: '25:00', end: '05:00'}\n", line: 3, column: 30,
                              "invalid time '25:00' for 'start': expected HH:MM on a 24-hour clock")
            expectPolicyError("name: n\ntargets: all\nwindow: {days: [sat], start: 2am, end: '05:00'}\n", line: 3, column: 30,
                              "invalid time '2am' for 'start'")
            expectPolicyError("name: n\ntargets: all\nwindow: {days: [sat], start: '01:00', end: '5:7'}\n", line: 3, column: 44,
                              "invalid time '5:7' for 'end'")
        }

        @Test func unknownWeekday() {
            expectPolicyError("name: n\ntargets: all\nwindow: {days: [sat, sunnday], start: '01:00', end: '02:00'}\n",
                              line: 3, column: 22, "unknown weekday 'sunnday' (did you mean 'sunday'?)")
            expectPolicyError("name: n\ntargets: all\nwindow: {days: [], start: '01:00', end: '02:00'}\n",
                              line: 3, column: 16, "'days' must name at least one day")
            expectPolicyError("name: n\ntargets: all\nwindow: {days: weekly, start: '01:00', end: '02:00'}\n",
                              line: 3, column: 16, "unknown weekday 'weekly'")
        }

        @Test func unknownTimezone() {
            expectPolicyError("name: n\ntargets: all\nwindow: {days: daily, start: '01:00', end: '02:00', timezone: Europe/Berln}\n",
                              line: 3, column: 63, "unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)")
            expectPolicyError("name: n\ntargets: all\nwindow: {days: daily, start: '01:00', end: '02:00', timezone: Mars/Olympus}\n",
                              line: 3, column: 63, "unknown timezone 'Mars/Olympus'", "IANA name")
        }

        @Test func nthOutOfRange() {
            expectPolicyError("name: n\ntargets: all\nwindow: {patch_tuesday: {weekday: sat, nth: 6}, start: '01:00', end: '02:00'}\n",
                              line: 3, column: 45, "'nth' must be a whole number from 1 to 5, found the number 6")
            expectPolicyError("name: n\ntargets: all\nwindow: {patch_tuesday: {weekday: sat, nth: 0}, start: '01:00', end: '02:00'}\n",
                              line: 3, column: 45, "'nth' must be a whole number from 1 to 5, found the number 0")
            expectPolicyError("name: n\ntargets: all\nwindow: {patch_tuesday: {nth: 2}, start: '01:00', end: '02:00'}\n",
                              line: 3, column: 31, "'nth' needs a 'weekday'")
        }

        // MARK: Rings

        @Test func emptyRings() {
            expectPolicyError("name: n\ntargets: all\nrings: []\n", line: 3, column: 8, "'rings' must list at least one ring")
            expectPolicyError("name: n\ntargets: all\nrings: {name: a}\n", line: 3, column: 8, "'rings' must be a list of rings")
            expectPolicyError("name: n\ntargets: all\nrings: [canary]\n", line: 3, column: 9, "ring 1 must be a map")
        }

        @Test func duplicateRingNames() {
            expectPolicyError("""
                name: n
                targets: all
                rings:
                  - name: test
                    targets: canary
                  - name: test
                """, line: 6, column: 11, "duplicate ring name 'test': already used at line 4")
        }

        @Test func ringWithoutName() {
            expectPolicyError("""
                name: n
                targets: all
                rings:
                  - name: test
                    targets: canary
                  - batch: 2
                """, line: 6, column: 5, "ring 2 has no 'name'")
        }

        @Test func onlyTheLastRingMayLeaveOutTargets() {
            expectPolicyError("""
                name: n
                targets: all
                rings:
                  - name: first
                  - name: second
                    targets: web
                """, line: 4, column: 5, "ring 'first' has no 'targets'", "must be the last ring")
            expectPolicyError("""
                name: n
                targets: all
                rings:
                  - name: first
                  - name: second
                """, line: 5, column: 5, "ring 'second' has no 'targets', but ring 'first' already takes every remaining host")
        }

        @Test func ringTargetsWrittenButEmpty() {
            // An empty `targets:` is a mistake, not "every remaining host".
            expectPolicyError("name: n\ntargets: all\nrings:\n  - name: a\n    targets:\n  - name: b\n", line: 5, column: 13,
                              "'targets' must not be empty")
        }

        @Test func badBatch() {
            for (batch, column) in [("0", 26), ("'0%'", 26), ("'150%'", 26), ("-2", 26), ("lots", 26), ("true", 26)] {
                expectPolicyError("name: n\ntargets: all\nrings: [{name: a, batch: \(batch)}]\n", line: 3, column: column,
                                  "'batch' must be a number of hosts (1 to 100000) or a percentage")
            }
        }

        @Test func maxFailPercentOutOfRange() {
            expectPolicyError("name: n\ntargets: all\nrings: [{name: a, max_fail_percent: 150}]\n", line: 3, column: 37,
                              "'max_fail_percent' must be a percentage between 0 and 100, found the number 150")
            expectPolicyError("name: n\ntargets: all\nrings: [{name: a, max_fail_percent: -1}]\n", line: 3, column: 37,
                              "between 0 and 100")
        }

        @Test func maxParallelAtLeastOne() {
            expectPolicyError("name: n\ntargets: all\nrings: [{name: a, max_parallel: 0}]\n", line: 3, column: 33,
                              "'max_parallel' must be a whole number from 1 to 10000, found the number 0")
        }

        @Test func ringNamesArePlain() {
            expectPolicyError("name: n\ntargets: all\nrings: [{name: 'wave 1'}]\n", line: 3, column: 16, "invalid ring name 'wave 1'")
        }

        // MARK: Durations and plain values

        @Test func invalidDurations() {
            expectPolicyError("name: n\ntargets: all\nrings: [{name: a, soak: -5m}]\n", line: 3, column: 25,
                              "invalid duration for 'soak'", "90s, 30m, 24h")
            expectPolicyError("name: n\ntargets: all\ninstall_timeout: 0\n", line: 3, column: 18, "'install_timeout' must be from 1s to 7d, found '0'")
            expectPolicyError("name: n\ntargets: all\nreboot_timeout: fast\n", line: 3, column: 17,
                              "invalid duration for 'reboot_timeout'", "found the string 'fast'")
            expectPolicyError("name: n\ntargets: all\nreboot_timeout: 1:30\n", line: 3, column: 17, "invalid duration")
        }

        @Test func wrongTypes() {
            expectPolicyError("name: n\ntargets: all\nrefresh: maybe\n", line: 3, column: 10,
                              "'refresh' must be true or false, found the string 'maybe'")
            expectPolicyError("name: n\ntargets: all\npre: {a: b}\n", line: 3, column: 6, "'pre' must be a list of strings, found a map")
            expectPolicyError("name: n\ntargets: all\npost: ['']\n", line: 3, column: 8, "commands in 'post' must not be empty")
            expectPolicyError("name: n\ntargets: all\nwindow: weekends\n", line: 3, column: 9, "'window' must be a map")
        }
    }
}
