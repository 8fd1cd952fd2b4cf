// Colours and type: Material 3, dynamic colour off so every bank's customer sees the same app.
package jp.softtoken.app.ui

import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.graphics.Color

private val Navy = Color(0xFF12355B)
private val Teal = Color(0xFF1B7F79)

/** The app's theme. */
@Composable
fun SoftTokenTheme(content: @Composable () -> Unit) {
    val colors = if (isSystemInDarkTheme()) {
        darkColorScheme(primary = Color(0xFF9CC4F0), secondary = Color(0xFF7DD3CB))
    } else {
        lightColorScheme(primary = Navy, secondary = Teal)
    }
    MaterialTheme(colorScheme = colors, content = content)
}
