package provider

import "os"

// logSettings are the environment variables through which someone asks for the logs of a provider
// process: the CLI's own (which the CLI passes on to its plugins), the plugin SDK's, and the acceptance
// test framework's.
var logSettings = []string{
	"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PATH", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_MUX",
	"TF_ACC_LOG_PATH", "TF_LOG_PATH_MASK",
}

// SilenceUnrequestedSDKLogs turns the plugin SDK's own logs off when nobody asked for logs. The SDK logs
// every RPC at TRACE unless told otherwise, and the CLI throws those lines away unless TF_LOG asks for
// them: formatting them cost about a quarter of the provider's CPU in a plan of 200 releases. The
// provider's own log lines are kept either way.
func SilenceUnrequestedSDKLogs() {
	for _, name := range logSettings {
		if os.Getenv(name) != "" {
			return
		}
	}
	_ = os.Setenv("TF_LOG_SDK", "OFF")
}
