// Group 7 body: SunPKCS11 (OpenJDK 17) drives FerroHSM; the JDK's own providers verify.
// usage: java Interop.java <sunpkcs11.cfg> <alias made by keytool>   (user PIN in $USER_PIN)
import java.nio.charset.StandardCharsets;
import java.security.*;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Collections;

public class Interop {
  static int passed = 0, failed = 0;

  interface Body { void run() throws Exception; }

  static void check(String label, Body b) {
    try {
      b.run();
      passed++;
      System.out.println("PASS: " + label);
    } catch (Throwable t) {
      failed++;
      System.out.println("FAIL: " + label);
      System.out.println("  | " + t);
      for (Throwable c = t.getCause(); c != null; c = c.getCause()) System.out.println("  | caused by " + c);
    }
    System.out.flush();
  }

  static void require(boolean ok, String what) { if (!ok) throw new AssertionError(what); }

  public static void main(String[] args) throws Exception {
    String cfg = args[0], alias = args[1];
    char[] pin = System.getenv("USER_PIN").toCharArray();
    byte[] data = "signed by FerroHSM through SunPKCS11\n".getBytes(StandardCharsets.UTF_8);
    Provider p = Security.getProvider("SunPKCS11").configure(cfg);
    Security.addProvider(p);
    KeyStore ks = KeyStore.getInstance("PKCS11", p);

    check("KeyStore.load with a wrong PIN fails", () -> {
      try {
        ks.load(null, "wrong-pin-0000".toCharArray());
        throw new AssertionError("a wrong PIN was accepted");
      } catch (java.io.IOException expected) {
        // SunPKCS11 wraps CKR_PIN_INCORRECT in an IOException
      }
    });
    check("KeyStore.load logs in with the user PIN", () -> ks.load(null, pin));
    check("the keytool-made key is a PrivateKeyEntry with its certificate", () -> {
      require(Collections.list(ks.aliases()).contains(alias), "aliases: " + Collections.list(ks.aliases()));
      require(ks.isKeyEntry(alias), "not a key entry");
      require(ks.getCertificate(alias) instanceof X509Certificate, "no certificate");
    });
    check("Signature SHA256withECDSA with the stored key; the JDK's SunEC verifies", () -> {
      PrivateKey k = (PrivateKey) ks.getKey(alias, null);
      Signature s = Signature.getInstance("SHA256withECDSA", p);
      s.initSign(k);
      s.update(data);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
      v.initVerify(ks.getCertificate(alias).getPublicKey());
      v.update(data);
      require(v.verify(sig), "SunEC rejects the signature");
      v.initVerify(ks.getCertificate(alias).getPublicKey());
      v.update("other".getBytes(StandardCharsets.UTF_8));
      require(!v.verify(sig), "SunEC accepts the signature over other data");
    });
    check("KeyPairGenerator EC secp256r1 on the token; signature verified by SunEC", () -> {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair kp = g.generateKeyPair();
      require(kp.getPrivate().getClass().getName().contains("P11"), "not a token key: " + kp.getPrivate().getClass());
      Signature s = Signature.getInstance("SHA256withECDSA", p);
      s.initSign(kp.getPrivate());
      s.update(data);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
      v.initVerify(kp.getPublic());
      v.update(data);
      require(v.verify(sig), "SunEC rejects the signature");
    });
    check("KeyPairGenerator RSA-2048 on the token; SHA256withRSA verified by SunRsaSign", () -> {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p);
      g.initialize(2048);
      KeyPair kp = g.generateKeyPair();
      Signature s = Signature.getInstance("SHA256withRSA", p);
      s.initSign(kp.getPrivate());
      s.update(data);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance("SHA256withRSA", "SunRsaSign");
      v.initVerify(kp.getPublic());
      v.update(data);
      require(v.verify(sig), "SunRsaSign rejects the signature");
    });
    check("SecureRandom from the token gives 32 bytes", () -> {
      byte[] r = new byte[32];
      SecureRandom.getInstance("PKCS11", p).nextBytes(r);
      int nonzero = 0;
      for (byte b : r) if (b != 0) nonzero++;
      require(nonzero > 16, "implausible random bytes");
    });
    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
