#include "common/config/file_modes.h"

#include <gtest/gtest.h>

namespace {

TEST(SecretFileModeWarning, AnyAccessByGroupOrOthersIsWarnedAbout) {
  for (unsigned mode : {0600u, 0400u, 0700u, 0200u}) {
    EXPECT_EQ(common::secret_file_mode_warning("AWS shared credentials file", "/root/.aws/credentials", mode), "")
        << std::oct << mode;
  }
  for (unsigned mode : {0640u, 0644u, 0604u, 0620u, 0602u, 0666u}) {
    EXPECT_NE(common::secret_file_mode_warning("AWS shared credentials file", "/root/.aws/credentials", mode), "")
        << std::oct << mode;
  }
  EXPECT_EQ(common::secret_file_mode_warning("AWS shared credentials file", "/root/.aws/credentials", 0644),
            "AWS shared credentials file /root/.aws/credentials can be read or written by group or others (mode "
            "0644); anyone who can read it has the keys: run chmod 600 /root/.aws/credentials");
}

TEST(PrivateDirectoryModeWarning, OnlyOthersCount) {
  for (unsigned mode : {0700u, 0750u, 0770u, 02750u}) {
    EXPECT_EQ(common::private_directory_mode_warning("agent.state_dir", "/var/lib/trailwatch", mode, "x"), "")
        << std::oct << mode;
  }
  for (unsigned mode : {0755u, 0751u, 0777u, 01777u}) {
    EXPECT_NE(common::private_directory_mode_warning("agent.state_dir", "/var/lib/trailwatch", mode, "x"), "")
        << std::oct << mode;
  }
  EXPECT_EQ(common::private_directory_mode_warning("agent.state_dir", "/var/lib/trailwatch", 0755,
                                                   "checkpoints and spooled audit records"),
            "agent.state_dir /var/lib/trailwatch is open to every user on this host (mode 0755) and holds "
            "checkpoints and spooled audit records: run chmod o-rwx /var/lib/trailwatch");
}

}  // namespace
