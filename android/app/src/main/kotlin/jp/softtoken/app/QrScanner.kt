// Scans the bank's activation QR code with Google's code scanner: the camera runs in Google
// Play services, so the app itself needs no camera permission and never sees camera frames.
package jp.softtoken.app

import android.content.Context
import com.google.mlkit.vision.barcode.common.Barcode
import com.google.mlkit.vision.codescanner.GmsBarcodeScannerOptions
import com.google.mlkit.vision.codescanner.GmsBarcodeScanning

/** Starts a QR scan and hands the scanned text to a callback. */
class QrScanner(private val context: Context) {
    /**
     * Scans one QR code; [onScanned] gets its text, [onCancelled] runs when the customer closed
     * the scanner, [onFailed] when it could not run (Google Play services missing or outdated,
     * the scanner module not yet downloaded, no camera): the app says so instead of nothing.
     */
    fun scan(onScanned: (String) -> Unit, onCancelled: () -> Unit, onFailed: () -> Unit) {
        val options = GmsBarcodeScannerOptions.Builder()
            .setBarcodeFormats(Barcode.FORMAT_QR_CODE)
            .build()
        GmsBarcodeScanning.getClient(context, options)
            .startScan()
            .addOnSuccessListener { barcode -> barcode.rawValue?.let(onScanned) ?: onFailed() }
            .addOnCanceledListener(onCancelled)
            .addOnFailureListener { onFailed() }
    }
}
