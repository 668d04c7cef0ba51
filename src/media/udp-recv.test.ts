// The MediaSocket contract with rtp-io in mode 'recv' (the I/O thread receives, JS sends). The
// mode is read when the add-on loads, so it is set before the contract (and with it the add-on)
// is imported.
process.env.SWITCHBOARD_RTP_IO_THREAD = 'recv';
const { mediaSocketContract } = await import('./udp-contract.js');

mediaSocketContract('recv');
