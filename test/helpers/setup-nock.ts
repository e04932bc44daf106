import nock from "nock";

// No test may reach the internet; the servers tests start on loopback stay reachable.
nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);

afterEach(() => {
  nock.cleanAll();
});
