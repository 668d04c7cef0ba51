// The MediaSocket contract with rtp-io in mode 'all' (the I/O thread receives and sends). The mode is read when the
// add-on loads, so it is set before the contract (and with it the add-on) is imported.
process.env.SWITCHBOARD_RTP_IO_THREAD = 'all';
const { mediaSocketContract } = await import('./udp-contract.js');

mediaSocketContract('all');
