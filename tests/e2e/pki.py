"""Test PKI generated with the openssl CLI (no committed keys).

One PKI object per runner process (session-scoped): certificates are created
lazily the first time a test asks for them and reused by later tests.

Every certificate goes through `openssl ca` with a minimal per-issuer config,
so validity can be set exactly with -startdate/-enddate (OpenSSL 3.0's
`x509 -req` has no not_before/not_after flags, and faketime is not used).
Roots are issued with `openssl ca -selfsign`.

    pki = PKI(dir)
    root = pki.make_ca("Test Root CA")                       # rsa:2048
    inter = pki.make_intermediate("Test Intermediate CA", root)
    leaf = pki.make_leaf(inter, sans=["DNS:www.coursera.test"])
    leaf.pem / leaf.der / leaf.pem_crlf / leaf.b64 / leaf.key / leaf.chain

The standard set used by the tests is available as properties:
pki.root, pki.inter, pki.coursera, pki.posttest, pki.wrong_root,
pki.client_ca, pki.client_ec, pki.client_rsa.
"""
import base64
import datetime as _dt
import os
import re
import shutil
import subprocess

KEY_KINDS = ("rsa:2048", "rsa:3072", "rsa:4096", "rsa:1024", "ec:P-256", "ec:P-384", "ed25519", "dsa:2048")


def _run(args, cwd=None, input=None):
    p = subprocess.run(args, cwd=cwd, input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (
            p.returncode, " ".join(args), p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p.stdout


def _slug(name):
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() or "x"


def asn1_time(t):
    """datetime / 'YYYYmmddHHMMSSZ' / int offset in days from now -> openssl ca date."""
    if isinstance(t, (int, float)):
        t = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=t)
    if isinstance(t, _dt.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(_dt.timezone.utc)
        return t.strftime("%Y%m%d%H%M%SZ")
    return str(t)


class Cert:
    """One issued certificate and its key, in the formats hosts use."""

    def __init__(self, pki, name, dirpath, issuer, key_kind):
        self.pki = pki
        self.name = name              # subject CN
        self.dir = dirpath
        self.issuer = issuer          # Cert or None (self-signed)
        self.key_kind = key_kind
        self.key = os.path.join(dirpath, "key.pem")        # PKCS#8 PEM
        self.pem = os.path.join(dirpath, "cert.pem")
        self.der = os.path.join(dirpath, "cert.der")
        self.pem_crlf = os.path.join(dirpath, "cert_crlf.cer")  # as a Windows browser exports
        self.b64 = os.path.join(dirpath, "cert.b64")        # bare base64 of the DER, one line
        self.key_der = os.path.join(dirpath, "key.der")
        self.key_rsa_pem = None                             # traditional form, RSA only
        self.chain = os.path.join(dirpath, "chain.pem")     # this cert + intermediates (no root)
        self.fullchain = os.path.join(dirpath, "fullchain.pem")  # ... + root

    def bytes(self, form="pem"):
        path = {"pem": self.pem, "der": self.der, "crlf": self.pem_crlf,
                "b64": self.b64, "chain": self.chain, "key": self.key,
                "key_der": self.key_der}[form]
        with open(path, "rb") as f:
            return f.read()

    @property
    def root(self):
        c = self
        while c.issuer is not None:
            c = c.issuer
        return c

    def __repr__(self):
        return "<Cert %r issuer=%r>" % (self.name, self.issuer.name if self.issuer else None)


_CA_CONF = """\
[ ca ]
default_ca = this_ca
[ this_ca ]
dir              = {dir}
database         = {dir}/index.txt
new_certs_dir    = {dir}/newcerts
serial           = {dir}/serial
default_md       = {md}
policy           = policy_any
unique_subject   = no
copy_extensions  = none
default_days     = 3650
[ policy_any ]
commonName             = {cn_policy}
organizationName       = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
"""


class PKI:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self._memo = {}

    # ---- generic builders ---------------------------------------------------

    def _genkey(self, kind, path):
        if kind.startswith("rsa:"):
            args = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:" + kind[4:]]
        elif kind.startswith("ec:"):
            args = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:" + kind[3:],
                    "-pkeyopt", "ec_param_enc:named_curve"]
        elif kind == "ed25519":
            args = ["-algorithm", "ED25519"]
        elif kind.startswith("dsa:"):             # OpenSSL 3: parameters first, then the key
            params = path + ".params"
            _run(["openssl", "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt",
                  "dsa_paramgen_bits:" + kind[4:], "-out", params])
            args = ["-paramfile", params]
        else:
            raise ValueError("unknown key kind %r (one of %s)" % (kind, KEY_KINDS))
        _run(["openssl", "genpkey"] + args + ["-out", path])

    def _ca_dir(self, ca):
        """Lazily turn an issuer's directory into an `openssl ca` database."""
        d = os.path.join(ca.dir, "ca")
        if not os.path.isdir(d):
            os.makedirs(os.path.join(d, "newcerts"))
            open(os.path.join(d, "index.txt"), "w").close()
            with open(os.path.join(d, "index.txt.attr"), "w") as f:
                f.write("unique_subject = no\n")
        return d

    def _issue(self, tag, cn, issuer, key_kind, ext_lines, not_before, not_after,
               days, org=None, md=None, subj=None, key_from=None):
        """md: signature digest ("sha384", "sha1", "md5"; default sha256, or the
        Ed25519 default); subj: the whole subject ("/O=No CN" for a certificate
        without CN); key_from: a Cert whose key is reused (cross-signing)."""
        if tag in self._memo:
            return self._memo[tag]
        d = os.path.join(self.dir, _slug(tag))
        if os.path.isdir(d):
            shutil.rmtree(d)        # left over from an earlier run: start clean
        os.makedirs(d)
        cert = Cert(self, cn, d, issuer, key_kind)
        if key_from is not None:
            shutil.copyfile(key_from.key, cert.key)
        else:
            self._genkey(key_kind, cert.key)
        if subj is None:
            subj = "/CN=" + cn.replace("/", r"\/") + ("/O=" + org if org else "")
        csr = os.path.join(d, "req.csr")
        _run(["openssl", "req", "-new", "-key", cert.key, "-subj", subj, "-out", csr])

        signer = issuer if issuer is not None else cert
        cadir = self._ca_dir(signer)
        with open(os.path.join(cadir, "serial"), "w") as f:
            f.write("%016X\n" % (int.from_bytes(os.urandom(8), "big") >> 1 | 1 << 60))
        if md is None:
            md = "default" if signer.key_kind == "ed25519" else "sha256"
        conf = os.path.join(d, "ca.cnf")
        with open(conf, "w") as f:
            f.write(_CA_CONF.format(dir=cadir, md=md,
                                    cn_policy="supplied" if "CN=" in subj else "optional"))
            f.write("[ ext ]\n" + "\n".join(ext_lines) + "\n")
        if not_before is None:
            not_before = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(hours=1)
        if not_after is None:
            not_after = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=days)
        args = ["openssl", "ca", "-batch", "-notext", "-config", conf, "-extensions", "ext",
                "-extfile", conf, "-in", csr, "-out", cert.pem,
                "-startdate", asn1_time(not_before), "-enddate", asn1_time(not_after),
                "-keyfile", signer.key, "-md", md]
        if issuer is None:
            args += ["-selfsign"]
        else:
            args += ["-cert", issuer.pem]
        _run(args)
        # normalise to a plain PEM (openssl ca writes only the PEM with -notext)
        der = _run(["openssl", "x509", "-in", cert.pem, "-outform", "DER"])
        with open(cert.der, "wb") as f:
            f.write(der)
        pem = _run(["openssl", "x509", "-in", cert.der, "-inform", "DER"])
        with open(cert.pem, "wb") as f:
            f.write(pem)
        with open(cert.pem_crlf, "wb") as f:
            f.write(pem.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        with open(cert.b64, "wb") as f:
            f.write(base64.b64encode(der))
        with open(cert.key_der, "wb") as f:
            f.write(_run(["openssl", "pkey", "-in", cert.key, "-outform", "DER"]))
        if key_kind.startswith("rsa:"):
            cert.key_rsa_pem = os.path.join(d, "key_rsa.pem")
            _run(["openssl", "pkey", "-in", cert.key, "-traditional", "-out", cert.key_rsa_pem])
        chain = [pem]
        c = issuer
        while c is not None and c.issuer is not None:   # intermediates only
            chain.append(c.bytes("pem"))
            c = c.issuer
        with open(cert.chain, "wb") as f:
            f.write(b"".join(chain))
        with open(cert.fullchain, "wb") as f:
            f.write(b"".join(chain) + (c.bytes("pem") if c is not None and c is not cert else b""))
        self._memo[tag] = cert
        return cert

    def make_ca(self, name, key="rsa:2048", days=3650, issuer=None, not_before=None,
                not_after=None, pathlen=None, tag=None, extra_ext=(), md=None, key_from=None):
        """A CA certificate: self-signed root when issuer is None."""
        bc = "critical,CA:TRUE" + ("" if pathlen is None else ",pathlen:%d" % pathlen)
        ext = ["basicConstraints = " + bc,
               "keyUsage = critical,keyCertSign,cRLSign",
               "subjectKeyIdentifier = hash",
               "authorityKeyIdentifier = keyid:always" if issuer else
               "authorityKeyIdentifier = keyid:always"]
        ext += list(extra_ext)
        return self._issue(tag or ("ca:" + name), name, issuer, key, ext, not_before,
                           not_after, days, md=md, key_from=key_from)

    def make_intermediate(self, name, issuer, key="rsa:2048", days=1825, **kw):
        return self.make_ca(name, key=key, days=days, issuer=issuer, **kw)

    def make_leaf(self, issuer, sans=(), cn=None, key="rsa:2048", eku="serverAuth", ca=False,
                  not_before=None, not_after=None, days=365, tag=None, extra_ext=(), md=None,
                  subj=None):
        """A end-entity certificate.  sans: ["DNS:a.test", "IP:127.0.0.1"]; eku: "serverAuth",
        "clientAuth", "serverAuth,clientAuth" or None (no EKU extension)."""
        sans = list(sans)
        if cn is None:
            cn = sans[0].split(":", 1)[1] if sans else "leaf"
        ext = ["basicConstraints = critical,CA:%s" % ("TRUE" if ca else "FALSE"),
               "subjectKeyIdentifier = hash",
               "authorityKeyIdentifier = keyid:always"]
        if key.startswith("rsa:"):
            ext.append("keyUsage = critical,digitalSignature,keyEncipherment")
        else:
            ext.append("keyUsage = critical,digitalSignature")
        if eku:
            ext.append("extendedKeyUsage = " + eku)
        if sans:
            ext.append("subjectAltName = " + ",".join(sans))
        ext += list(extra_ext)
        return self._issue(tag or ("leaf:%s:%s:%s" % (issuer.name if issuer else "self", cn, key)),
                           cn, issuer, key, ext, not_before, not_after, days, md=md, subj=subj)

    # ---- helpers for the TLS/PKI cases (tests/e2e/test_tls_*.py) ----------------

    def make_cross(self, ca, issuer, tag=None, days=3650):
        """A cross certificate: ca's subject and key, signed by issuer (CA:TRUE)."""
        ext = ["basicConstraints = critical,CA:TRUE",
               "keyUsage = critical,keyCertSign,cRLSign",
               "subjectKeyIdentifier = hash",
               "authorityKeyIdentifier = keyid:always"]
        return self._issue(tag or ("cross:%s:%s" % (ca.name, issuer.name)), ca.name, issuer,
                           ca.key_kind, ext, None, None, days, key_from=ca)

    def make_self_signed(self, sans, key="rsa:2048", ca=True, tag=None, days=365):
        """A self-signed server certificate as `openssl req -x509` makes it
        (CA:TRUE by default), with subjectAltNames."""
        sans = list(sans)
        cn = sans[0].split(":", 1)[1]
        ext = ["basicConstraints = critical,CA:%s" % ("TRUE" if ca else "FALSE"),
               "subjectKeyIdentifier = hash",
               "subjectAltName = " + ",".join(sans)]
        return self._issue(tag or ("self:%s:%s" % (cn, key)), cn, None, key, ext, None, None, days)

    def file(self, name, data):
        """Writes bytes under the PKI directory once per run; returns the path."""
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
        return path

    def dhparam(self, bits):
        """DH parameters (PEM path), generated once per run."""
        path = os.path.join(self.dir, "dh%d.pem" % bits)
        if not os.path.exists(path):
            _run(["openssl", "dhparam", "-out", path, str(bits)])
        return path

    def make_client(self, issuer, cn, key="ec:P-256", **kw):
        kw.setdefault("eku", "clientAuth")
        return self.make_leaf(issuer, sans=(), cn=cn, key=key, **kw)

    # ---- the standard set ------------------------------------------------------

    @property
    def root(self):
        return self.make_ca("Test Root CA", key="rsa:2048")

    @property
    def inter(self):
        return self.make_intermediate("Test Intermediate CA", self.root)

    @property
    def coursera(self):
        """Server leaf for www.coursera.test (issued by the intermediate)."""
        return self.make_leaf(self.inter, cn="www.coursera.test",
                              sans=["DNS:www.coursera.test", "DNS:coursera.test"])

    @property
    def posttest(self):
        return self.make_leaf(self.inter, cn="posttest.test", sans=["DNS:posttest.test"])

    @property
    def wrong_root(self):
        return self.make_ca("Wrong Root CA", key="rsa:2048")

    @property
    def client_ca(self):
        return self.make_ca("Test Client CA", key="ec:P-256")

    @property
    def client_ec(self):
        return self.make_client(self.client_ca, "client-ec", key="ec:P-256")

    @property
    def client_rsa(self):
        return self.make_client(self.client_ca, "client-rsa", key="rsa:2048")


class Served:
    """What a server presents: a chain file (leaf first, then whatever the test
    wants sent, in that order) and the leaf's key.  Duck-types the Cert
    attributes servers.Nginx.vhost / SServer use (chain, key, pem, issuer)."""

    def __init__(self, pki, name, leaf, extra):
        self.leaf = leaf
        self.key = leaf.key
        self.pem = leaf.pem
        self.issuer = None                  # SServer: no -cert_chain from the issuer walk
        self.chain = pki.file("served-%s.pem" % _slug(name),
                              b"".join([leaf.bytes("pem")] + [c.bytes("pem") for c in extra]))
        self.name = leaf.name
