// Registers toReceiveCommandWith & co. and their types.
import 'aws-sdk-client-mock-vitest/extend';
