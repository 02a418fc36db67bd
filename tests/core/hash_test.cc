// SPDX-License-Identifier: MIT
// SHA-256 against the test vectors of FIPS 180-4 (NIST's examples): the
// constants computed at compile time and the padding of every tail length.
#include "gaincell/core/hash.h"

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace gaincell;

TEST_CASE("sha256 gives the NIST digests", "[unit][core]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 448 bits: the padding needs a second block.
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256_file hashes a file's bytes", "[unit][core]") {
  testing::TempDir dir;
  testing::write_file(dir / "abc", "abc");
  CHECK(sha256_file(dir / "abc") == sha256_hex("abc"));
}
