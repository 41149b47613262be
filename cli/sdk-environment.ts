// Imported first by cli/main.ts, before any AWS SDK module loads. The SDK's multi-line Node.js-version
// notice would break the CLI's one-line errors; it concerns future SDK releases, not this run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
