/// The ssh_config keywords patchctl knows, and what it does with each (docs/ssh_config.md).
enum SSHConfigKeywords {
    /// Used to connect (see SSHConfigSettings).
    static let honoured: [String] = [
        "hostname", "user", "port", "identityfile", "identitiesonly", "identityagent", "proxyjump",
        "userknownhostsfile", "stricthostkeychecking", "hostkeyalgorithms", "connecttimeout",
        "serveraliveinterval", "serveralivecountmax",
    ]

    /// Settings patchctl cannot carry out natively: a host they apply to fails with an error that
    /// names the keyword and where it was written, never a connection made some other way.
    struct Refusal: Sendable {
        var keyword: String
        /// OpenSSH's spelling, for messages.
        var name: String
        var applies: @Sendable (String) -> Bool
        var reason: String
    }

    static func isYes(_ value: String) -> Bool { ["yes", "true"].contains(value.lowercased()) }
    static func isSet(_ value: String) -> Bool { !value.isEmpty && value.lowercased() != "none" }

    static let refusals: [Refusal] = [
        Refusal(keyword: "proxycommand", name: "ProxyCommand", applies: isSet,
                reason: "patchctl does not run proxy commands natively; use ProxyJump, or `connection: openssh` for this host"),
        Refusal(keyword: "gssapiauthentication", name: "GSSAPIAuthentication", applies: isYes,
                reason: "Kerberos/GSSAPI authentication is not supported natively; use a key, turn it off for these hosts, or `connection: openssh`"),
        Refusal(keyword: "gssapikeyexchange", name: "GSSAPIKeyExchange", applies: isYes,
                reason: "GSSAPI key exchange is not supported"),
        Refusal(keyword: "gssapidelegatecredentials", name: "GSSAPIDelegateCredentials", applies: isYes,
                reason: "Kerberos credentials cannot be delegated"),
        Refusal(keyword: "pkcs11provider", name: "PKCS11Provider", applies: isSet,
                reason: "PKCS#11 tokens are not supported; load the key into ssh-agent instead"),
        Refusal(keyword: "securitykeyprovider", name: "SecurityKeyProvider", applies: { isSet($0) && $0 != "internal" },
                reason: "FIDO security keys are not supported natively; `connection: openssh` runs such a host through the system ssh"),
        Refusal(keyword: "certificatefile", name: "CertificateFile", applies: isSet,
                reason: "SSH user certificates are not supported by libssh2; `connection: openssh` runs such a host through the system ssh"),
        Refusal(keyword: "hostkeyalias", name: "HostKeyAlias", applies: isSet,
                reason: "known_hosts aliases are not supported; host keys are looked up by address"),
        Refusal(keyword: "knownhostscommand", name: "KnownHostsCommand", applies: isSet,
                reason: "patchctl does not run known_hosts commands"),
        Refusal(keyword: "remotecommand", name: "RemoteCommand", applies: isSet,
                reason: "patchctl runs its own commands; a RemoteCommand would be ignored"),
        Refusal(keyword: "tunnel", name: "Tunnel", applies: { !["no", "false"].contains($0.lowercased()) },
                reason: "tun/tap forwarding is not supported"),
        Refusal(keyword: "hostbasedauthentication", name: "HostbasedAuthentication", applies: isYes,
                reason: "host-based authentication is not supported"),
        Refusal(keyword: "bindaddress", name: "BindAddress", applies: isSet,
                reason: "patchctl cannot choose the local address of its connections"),
        Refusal(keyword: "bindinterface", name: "BindInterface", applies: isSet,
                reason: "patchctl cannot choose the local interface of its connections"),
    ]

    /// Read and deliberately not used: they change nothing patchctl does, or only loosen
    /// something patchctl keeps strict (docs/ssh_config.md lists them).
    static let ignored: [String] = [
        "addkeystoagent", "addressfamily", "batchmode", "canonicaldomains", "canonicalizefallbacklocal",
        "canonicalizehostname", "canonicalizemaxdots", "canonicalizepermittedcnames", "casignaturealgorithms",
        "channeltimeout", "checkhostip", "ciphers", "clearallforwardings", "compression", "connectionattempts",
        "controlmaster", "controlpath", "controlpersist", "dynamicforward", "enableescapecommandline",
        "enablesshkeysign", "escapechar", "exitonforwardfailure", "fingerprinthash", "forkafterauthentication",
        "forwardagent", "forwardx11", "forwardx11timeout", "forwardx11trusted", "gatewayports",
        "globalknownhostsfile", "gssapiclientidentity", "gssapirenewalforcesrekey", "gssapiserveridentity",
        "gssapitrustdns", "gssapikexalgorithms", "hashknownhosts", "hostbasedacceptedalgorithms", "ignoreunknown",
        "ipqos", "kbdinteractiveauthentication", "kbdinteractivedevices", "kexalgorithms", "localcommand",
        "localforward", "loglevel", "logverbose", "macs", "nohostauthenticationforlocalhost",
        "numberofpasswordprompts", "obscurekeystroketiming", "passwordauthentication", "permitlocalcommand",
        "permitremoteopen", "preferredauthentications", "proxyusefdpass", "pubkeyacceptedalgorithms",
        "pubkeyauthentication", "rekeylimit", "remoteforward", "requesttty", "requiredrsasize", "revokedhostkeys",
        "sendenv", "sessiontype", "setenv", "stdinnull", "streamlocalbindmask", "streamlocalbindunlink",
        "syslogfacility", "tcpkeepalive", "tunneldevice", "updatehostkeys", "verifyhostkeydns", "visualhostkey",
        "xauthlocation", "smartcarddevice",
    ]

    /// Old or other builds' names OpenSSH still accepts (and ignores or maps).
    static let aliases: [String] = [
        "challengeresponseauthentication", "skeyauthentication", "tisauthentication", "dsaauthentication",
        "identityfile2", "globalknownhostsfile2", "userknownhostsfile2", "pubkeyacceptedkeytypes",
        "hostbasedkeytypes", "keepalive", "protocol", "cipher", "fallbacktorsh", "usersh", "useprivilegedport",
        "rhostsauthentication", "rhostsrsaauthentication", "rsaauthentication", "compressionlevel",
        "useroaming", "afstokenpassing", "kerberosauthentication", "kerberostgtpassing", "useblacklistedkeys",
        "noneenabled", "noneswitch", "hpndisabled", "hpnbuffersize", "tcprcvbufpoll", "tcprcvbuf",
    ]

    static let known: Set<String> = Set(honoured + refusals.map(\.keyword) + ignored + aliases + ["include", "host", "match"])
}
