// Internal helpers of the credential providers and the region/endpoint
// resolution (tributary/remote.h): the AWS file locations and an INI reader.
#ifndef TRIBUTARY_LIB_REMOTE_CREDENTIALS_H_
#define TRIBUTARY_LIB_REMOTE_CREDENTIALS_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tributary::remote {

std::string HomeDir();
// AWS_PROFILE, else "default".
std::string DefaultProfileName();
// AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials.
std::string CredentialsFilePath();
// AWS_CONFIG_FILE, else $HOME/.aws/config.
std::string ConfigFilePath();

// The keys of one [section] of an INI file; nullopt if the file or the
// section does not exist. InvalidArgument if the file does not parse.
using IniSection = std::optional<std::map<std::string, std::string>>;
absl::StatusOr<IniSection> ReadIniSection(const std::string& path, const std::string& section);

// The keys of `profile`: its config-file section ("[profile NAME]", or
// "[default]"), overridden by its section of `credentials_file`. Empty when
// neither file has it; InvalidArgument when a file does not parse.
using ProfileKeys = std::map<std::string, std::string>;
absl::StatusOr<ProfileKeys> ReadProfile(const std::string& profile, const std::string& credentials_file);

// AWS_REGION, AWS_DEFAULT_REGION, then the profile's region in the config file.
std::optional<std::string> RegionFromEnvironment();
// AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL.
std::optional<std::string> EndpointFromEnvironment();
// AWS_ENDPOINT_URL_<SERVICE> (e.g. "DYNAMODB", "STS", "SSO"), then
// AWS_ENDPOINT_URL, as the AWS SDKs resolve service endpoints.
std::optional<std::string> ServiceEndpointFromEnvironment(std::string_view service);

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_CREDENTIALS_H_
