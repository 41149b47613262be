// The local mode talks to no AWS service; the SDK's Node.js-version notice would only be noise on the demo.
// Imported first so it is set before any SDK module loads.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
