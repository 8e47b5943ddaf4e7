import Foundation
import PatchSSH
import Testing
@testable import PatchCore

/// What `make record-fixtures` takes out of a real host's output before it becomes a fixture
/// (`FixtureScrubber`): names, the login user, addresses, MACs; and what it must leave alone.
@Suite("Fixture scrubbing")
struct FixtureScrubberTests {
    func scrub(_ text: String, names: [String] = ["web07", "web07.corp.example.org"], users: [String] = ["jsmith"],
               keep: Set<String> = []) -> String {
        FixtureScrubber(names: names, users: users, keep: keep).scrub([text]).texts[0]
    }

    @Test func hostNamesBecomeOneNumberedHostAndTheDomainExampleCom() {
        let text = "web07 up; WEB07.corp.example.org answers; mirror.corp.example.org serves; web07."
        #expect(scrub(text) == "host-1 up; host-1.example.com answers; mirror.example.com serves; host-1.")
        // Windows gives its name in capitals; a second name gets the next number.
        #expect(scrub("SRV-A and srv-b", names: ["SRV-A", "srv-b"]) == "host-1 and host-2")
    }

    @Test func namesAreReplacedAsWholeWordsOnly() {
        // A short host name inside a package name, a path or a longer word stays.
        let text = "open-vm-tools 12.5 vm_stat /srv/vmware vmlinuz vm"
        #expect(scrub(text, names: ["vm"]) == "open-vm-tools 12.5 vm_stat /srv/vmware vmlinuz host-1")
        // An address the user gave is left to the address rules, never taken for a name.
        #expect(scrub("10.1.2.3 and 127.0.0.1", names: ["10.1.2.3", "127.0.0.1"]) == "192.0.2.1 and 127.0.0.1")
    }

    @Test func theLoginUserBecomesUserButSystemAccountsStay() {
        let text = "C:\\Users\\jsmith\\AppData; /home/jsmith; jsmithers; root in /root; CORP\\Administrator"
        #expect(scrub(text, users: ["jsmith", "root", "Administrator"])
            == "C:\\Users\\user\\AppData; /home/user; jsmithers; root in /root; CORP\\Administrator")
    }

    @Test func ipv4AddressesMapConsistentlyAcrossTextsAndLoopbackStays() {
        let scrubber = FixtureScrubber(names: [], users: [])
        let (texts, report) = scrubber.scrub([
            "inet 10.20.30.40/24 brd 10.20.30.255 peer 203.0.113.9; lo 127.0.0.1 any 0.0.0.0 mask 255.255.255.0",
            "again 10.20.30.40, then 172.16.0.1.",
        ])
        #expect(texts[0] == "inet 192.0.2.1/24 brd 192.0.2.2 peer 203.0.113.9; lo 127.0.0.1 any 0.0.0.0 mask 255.255.255.0")
        #expect(texts[1] == "again 192.0.2.1, then 192.0.2.3.")
        #expect(report.ipv4 == 4 && report.distinctAddresses == 3)
    }

    @Test func versionsThatLookLikeAddressesAreNotAddresses() {
        // Longer dotted runs are versions, not addresses.
        #expect(scrub("kernel 5.14.21.150500.55 build 10.0.26200.7462") == "kernel 5.14.21.150500.55 build 10.0.26200.7462")
        // Four parts of at most 255: only what patchctl read from the output says which are versions.
        let text = "JBL Driver Update (2.0.0.6) from 10.9.8.7; Inst libfoo [1:2.3.4.5-1] (1:2.3.4.6-1 Debian:13/stable [amd64])"
        #expect(scrub(text, keep: ["JBL Driver Update (2.0.0.6)", "1:2.3.4.5-1", "1:2.3.4.6-1"])
            == "JBL Driver Update (2.0.0.6) from 192.0.2.1; Inst libfoo [1:2.3.4.5-1] (1:2.3.4.6-1 Debian:13/stable [amd64])")
        #expect(scrub("Update (2.0.0.6)") == "Update (192.0.2.1)")
    }

    @Test func ipv6AddressesMapToTheDocumentationPrefixAndLoopbackStays() {
        let text = "fe80::a00:27ff:fe4e:66a1%eth0 and 2a01:4f8:c2c:123f::1/64, FE80::A00:27FF:FE4E:66A1; lo ::1 any :: mapped ::ffff:10.1.2.3"
        #expect(scrub(text) == "2001:db8::1%eth0 and 2001:db8::2/64, 2001:db8::1; lo ::1 any :: mapped 2001:db8::3")
        // Times, C++ names and zypper epochs are not addresses.
        let notAddresses = "at 10:30:00 std::vector<int> 3:2.0-1 Foo::Bar Version: 1:2.3"
        #expect(scrub(notAddresses) == notAddresses)
    }

    @Test func macAddressesMapToTheDocumentationRangeInTheirOwnStyle() {
        let text = "ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff; Physical Address 3C-52-82-AB-CD-EF; 52:54:00:12:34:56 none 00:00:00:00:00:00"
        #expect(scrub(text) == "ether 00:00:5e:00:53:01 brd ff:ff:ff:ff:ff:ff; Physical Address 00-00-5E-00-53-02; 00:00:5e:00:53:01 none 00:00:00:00:00:00")
    }

    @Test func theReportCountsEachKind() {
        let (_, report) = FixtureScrubber(names: ["web07"], users: ["jsmith"]).scrub([
            "web07 jsmith 10.0.0.1 fe80::1 52:54:00:12:34:56", "web07 10.0.0.1",
        ])
        #expect(report.names == 2 && report.users == 1 && report.ipv4 == 2 && report.ipv6 == 1 && report.macs == 1)
        #expect(report.distinctAddresses == 2 && report.total == 7)
    }

    /// Real outputs with no address or name in them come out byte for byte the same: the rules do
    /// not bite on package names, versions, XML or CRLF text.
    @Test(arguments: [
        "debian12/apt-get-s-dist-upgrade.txt", "debian12/dpkg-query-source.txt", "debian13-lab/apt-get-s-dist-upgrade.txt",
        "ubuntu2404/apt-get-s-upgrade.txt", "rocky9-lab/dnf-check-update.txt", "rocky9-lab/rpm-qa.txt",
        "rhel-public/almalinux9-updateinfo-list-security.txt", "sles15-lab/list-updates.xml", "sles15-lab/info-patch.txt",
        "suse/leap16-list-updates-g03.xml", "macos/softwareupdate-list-tahoe.txt",
        "windows/quser-two-users.txt", "thirdparty/winget-upgrade-duplicates.txt",
    ])
    func realOutputsWithoutAddressesAreUnchanged(_ path: String) throws {
        let text = try Fixture.text(path)
        let (texts, report) = FixtureScrubber(names: ["web07", "web07.corp.example.org"], users: ["jsmith"]).scrub([text])
        #expect(report.total == 0)
        #expect(texts[0] == text)
    }

    /// A real WUA title holds a dotted quad (`JBL Driver Update (2.0.0.6)`): what the recorder keeps
    /// (what patchctl read from the output) leaves the recording as it was.
    @Test func theRecorderKeepsWhatPatchctlReadFromTheOutput() async throws {
        let output = CommandResult(exitStatus: 0, stdout: try Fixture.text("windows/wua-scan-win11-de.txt"), stderr: "")
        let (_, findings) = try await ScanRunner.read(output, of: .powershell, host: Host(name: "win", shellType: .powershell))
        let scrubber = FixtureScrubber(names: ["DESKTOP-4F2K9"], users: ["jsmith"], keep: FixtureRecorder.kept(findings))
        #expect(scrubber.scrub([output.stdout]).texts[0] == output.stdout)
        #expect(FixtureScrubber(names: [], users: []).scrub([output.stdout]).report.ipv4 == 1)
    }
}
