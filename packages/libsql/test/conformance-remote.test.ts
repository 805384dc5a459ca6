import { describeBackendConformance } from "@durabletask/testing";
import { remoteFactory } from "./hrana-servers.js";

// Every backend gets a Hrana test server (a fresh, empty database) of its own.
describeBackendConformance("libsql http://", remoteFactory("http"));
describeBackendConformance("libsql ws://", remoteFactory("ws"));
