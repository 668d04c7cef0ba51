// The MediaSocket contract with rtp-io in mode 'off' (every socket syscall on the JS thread). The mode is read when the
// add-on loads, so it is set before the contract (and with it the add-on) is imported.
process.env.SWITCHBOARD_RTP_IO_THREAD = 'off';
const { mediaSocketContract } = await import('./udp-contract.js');

mediaSocketContract('off');
